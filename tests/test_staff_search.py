"""Staff search and bulk actions: reports found by reference, address, postcode or words over what the staff
member may see (through the index of migration 0009), filters that live in the URL, and many reports changed at
once through the same services as one."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from meldingen.extensions import db
from meldingen.reports.models import Report, ReportEvent
from meldingen.staff.search import SearchFilter, SearchTooShort, parse_query, search_reports
from tests.factories import EMMEN, make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"
BARENTSZPLEIN = (52.3892794, 4.8910276)
BICKERSGRACHT = (52.3867425, 4.8886499)


def sign_in(client, user):
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def found(staff, **args) -> list[str]:
    return [r.reference for r in search_reports(staff, SearchFilter(**args)).reports]


@pytest.fixture
def three_reports(app):
    light = make_report("De lantaarnpaal voor de deur brandt niet meer", point=BARENTSZPLEIN,
                        category="straatverlichting-openbare-klok")
    tile = make_report("Losse stoeptegel bij de ingang")  # Westerdoksdijk 40A, 1013AE
    bin_ = make_report("Container zit propvol, zakken ernaast", point=BICKERSGRACHT, category="container-is-vol")
    return light, tile, bin_


def test_typed_text_is_read_as_references_and_words_with_postcodes_joined():
    terms = parse_query("m-7k3q9x Westerdoksdijk 40A, 1013 ae")
    assert terms.references == ["M-7K3Q9X"]
    assert terms.words == ["westerdoksdijk", "40a", "1013ae"]
    assert parse_query("M7K3Q9X").references == ["M-7K3Q9X"]
    assert parse_query("  ").empty


def test_a_report_is_found_by_reference_part_of_the_street_house_number_postcode_or_words(
        three_reports, make_staff):
    head, _ = make_staff("head")
    light, tile, bin_ = three_reports
    # The reference in any case, with or without the dash, or its code alone as a word.
    assert found(head, q=light.reference.lower()) == [light.reference]
    assert found(head, q="M" + light.reference[2:].lower()) == [light.reference]
    assert found(head, q=light.reference[2:]) == [light.reference]
    # Part of the street, with the house number; a number that is not there finds nothing.
    assert found(head, q="westerdok") == [tile.reference]
    assert found(head, q="Westerdoksdijk 40A") == [tile.reference]
    assert found(head, q="Westerdoksdijk 41") == []
    assert found(head, q="westerdoksdijk 40") == [tile.reference]  # 40 finds 40A, 40-2 …
    assert found(head, q="westerdoksdijk 4") == []  # … but 4 does not find 40A
    # The postcode as people write it.
    assert found(head, q="1013 AE") == [tile.reference]
    # Words of the description, in any case, all of them required.
    assert found(head, q="LANTAARN") == [light.reference]
    assert found(head, q="propvol zakken") == [bin_.reference]
    assert found(head, q="propvol lantaarn") == []
    # An edited description is found by its new words only (the index follows the table).
    bin_.description = "Glasbak is kapot"
    db.session.commit()
    assert found(head, q="propvol") == []
    assert found(head, q="glasbak") == [bin_.reference]


def test_search_and_bulk_reach_only_reports_the_staff_member_may_see(three_reports, make_staff):
    emmen_report = make_report("Lantaarnpaal in Emmen brandt niet", point=EMMEN,
                               category="straatverlichting-openbare-klok")
    head, _ = make_staff("head")
    assert emmen_report.reference not in found(head, q="lantaarnpaal")
    assert found(head, q=emmen_report.reference) == []
    # Nor can a bulk action reach it.
    from meldingen.staff.bulk import apply_bulk

    outcome = apply_bulk(head, [emmen_report.reference], "status", "planned")
    assert outcome.refused == [(emmen_report.reference, "niet gevonden")]
    db.session.expire_all()
    assert db.session.get(Report, emmen_report.id).status == "new"
    from meldingen.organisations.models import Department

    light = three_reports[0]
    other = db.session.scalar(select(Department).where(Department.organisation_id == light.organisation_id,
                                                       Department.id != light.department_id))
    crew_elsewhere, _ = make_staff("crew", "GM0363", other.code)
    assert found(crew_elsewhere, q="lantaarnpaal") == []
    crew_here, _ = make_staff("crew", "GM0363", light.department.code)
    assert found(crew_here, q="lantaarnpaal") == [light.reference]


def test_only_short_terms_are_refused_with_a_plain_dutch_reason(make_staff, app):
    head, _ = make_staff("head")
    with pytest.raises(SearchTooShort):
        search_reports(head, SearchFilter(q="40 a"))
    client = app.test_client()
    sign_in(client, make_staff("agent")[0])  # heads have the backlog as their list (test_staff_list.py)
    response = client.get("/staff/search?q=40")
    assert response.status_code == 400
    assert "minstens drie tekens" in response.get_data(as_text=True)
    # What a URL can carry never makes a server error: NUL, broken characters, numbers past any page.
    for query in ("q=lantaarn%00paal&state=open%00", "q=%ED%A0%80stoep", "q=stoep&page=99999999999999999999",
                  "assignee=99999999999999999999999", "state=%00&category=%00&department=%00&area=%00"):
        assert client.get(f"/staff/search?{query}").status_code == 200, query
    sign_in(client, head)
    assert client.post("/staff/search/bulk", data={"reference": ["M-\x00AAAAA"], "action": "status",
                                                   "status": "planned\x00"}).status_code == 303


def test_filters_live_in_the_url_and_narrow_the_words(three_reports, make_staff, app):
    from meldingen.reports.services import change_status

    light, tile, bin_ = three_reports
    change_status(tile, "done", "Tegel teruggelegd")
    db.session.commit()
    head, _ = make_staff("head")
    assert found(head, q="stoeptegel", state="closed") == [tile.reference]
    assert found(head, q="stoeptegel", state="open") == []
    assert found(head, category="afval", state="open") == [bin_.reference]
    client = app.test_client()
    sign_in(client, make_staff("agent")[0])  # heads have the backlog as their list (test_staff_list.py)
    page = client.get("/staff/search?q=lantaarnpaal&state=open").get_data(as_text=True)
    assert light.reference in page and bin_.reference not in page
    assert 'href="/staff/search?q=lantaarnpaal&amp;state=open"' in page


def test_a_head_gives_many_reports_one_status_each_through_the_status_table_refusals_named(
        three_reports, make_staff, app):
    light, tile, bin_ = three_reports
    head, _ = make_staff("head")
    client = app.test_client()
    sign_in(client, head)
    response = client.post("/staff/search/bulk", data={
        "reference": [light.reference, tile.reference, bin_.reference], "action": "status", "status": "planned",
        "back": "/staff/search?q=x"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/search?q=x")
    db.session.expire_all()
    assert {r.status for r in (light, tile, bin_)} == {"planned"}
    for report in (light, tile, bin_):
        [event] = [e for e in report.events if e.kind == "status"]
        assert (event.from_status, event.status, event.actor) == ("new", "planned", head.email)
    # One the status table refuses stays as it was, with the reason; the others are done.
    from meldingen.reports.services import change_status
    from meldingen.staff.bulk import apply_bulk

    change_status(tile, "done", "klaar")
    db.session.commit()
    outcome = apply_bulk(head, [light.reference, tile.reference, bin_.reference], "status", "in_progress")
    assert sorted(outcome.changed) == sorted([light.reference, bin_.reference])
    assert outcome.refused == [(tile.reference, "kan niet van ‘Afgehandeld’ naar ‘In behandeling’")]
    db.session.expire_all()
    assert tile.status == "done"
    needs_note = apply_bulk(head, [light.reference], "status", "done")
    assert needs_note.refused == [(light.reference, "naar ‘Afgehandeld’ kan alleen met een notitie")]


def test_bulk_department_and_assignee_go_through_reassignment_and_history(three_reports, make_staff):
    from meldingen.staff.bulk import apply_bulk

    light, tile, _bin = three_reports
    head, _ = make_staff("head")
    crew, _ = make_staff("crew", "GM0363", tile.department.code)
    outcome = apply_bulk(head, [light.reference, tile.reference], "assignee", str(crew.id))
    assert sorted(outcome.changed) == sorted([light.reference, tile.reference])
    db.session.expire_all()
    assert light.assignee_id == crew.id and tile.assignee_id == crew.id
    assert db.session.scalar(select(func.count()).select_from(ReportEvent).where(
        ReportEvent.kind == "assign", ReportEvent.report_id.in_([light.id, tile.id]))) == 2
    refused = apply_bulk(head, [light.reference], "department", "NOPE")
    assert refused.refused == [(light.reference, "Afdeling NOPE bestaat niet bij deze organisatie.")]


def test_crews_and_agents_search_but_may_not_change_many_at_once(make_staff, app):
    tile = make_report("Losse stoeptegel bij de ingang")
    for role in ("crew", "agent"):
        user, _ = make_staff(role, "GM0363", tile.department.code if role == "crew" else None)
        client = app.test_client()
        sign_in(client, user)
        assert client.get(f"/staff/search?q={tile.reference}").status_code == 200
        response = client.post("/staff/search/bulk", data={"reference": [tile.reference], "action": "status",
                                                           "status": "planned"})
        assert response.status_code == 403
