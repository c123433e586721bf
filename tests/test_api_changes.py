"""Pulling changes: `updated_after` and `sort=updated_at` with a cursor on /api/v1/reports, `updated_after` on
Open311's servicerequestupdates, and `updated_at` moved by every change to a report."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from meldingen.dedup.services import merge_reports
from meldingen.extensions import db
from meldingen.pipeline import change_category
from meldingen.privacy.public import set_public_description
from meldingen.reports.services import change_status, find_sub_category
from meldingen.staff.report_actions import reassign
from meldingen.timeutil import as_aware_utc
from tests.factories import AMSTERDAM, make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test


def spread_reports(count: int) -> list:
    """Reports of separate problems (tiles 100 m apart: no duplicates of one another)."""
    return [make_report(f"Stoeptegel {i}", point=(AMSTERDAM[0], AMSTERDAM[1] + i * 0.0015)) for i in range(count)]


def walk(client, headers, url: str, between=None) -> list[dict]:
    """Follow `next` links to the end; `between(page_number)` runs after each page is fetched."""
    items, number = [], 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.json
        items += response.json["items"]
        number += 1
        if between is not None:
            between(number)
        url = response.json.get("next")
        assert number < 50, "the walk does not end"
    return items


def stamp(report):
    db.session.refresh(report)
    return as_aware_utc(report.updated_at)


def test_every_kind_of_change_moves_updated_at(app, make_staff):
    staff, _ = make_staff("head", "GM0363")
    report, other = spread_reports(2)
    changes = [
        lambda: change_status(report, "in_progress", "intern", actor=staff.email),
        lambda: change_category(report, find_sub_category("straatverlichting-openbare-klok"), actor=staff.email),
        lambda: set_public_description(report, "Lamp kapot", actor=staff.email),
        lambda: reassign(report, staff, None, staff.id),
        lambda: merge_reports(other, report, actor=staff.email),  # the known report has one more reporter
    ]
    for change in changes:
        before, other_before = stamp(report), stamp(other)
        change()
        db.session.commit()
        assert stamp(report) > before
    assert stamp(other) > other_before


def test_a_photo_added_through_the_api_moves_updated_at(client, auth, make_staff):
    from io import BytesIO

    from tests.fake_platforms import jpeg_bytes

    _, token = make_staff("head", "GM0363")
    report = make_report()
    before = stamp(report)
    response = client.post(f"/api/v1/reports/{report.reference}/photos", headers=auth(token),
                           data={"file": (BytesIO(jpeg_bytes()), "foto.jpg")})
    assert response.status_code == 201, response.json
    assert stamp(report) > before


def test_updated_after_lists_only_reports_changed_since(client, auth, make_staff):
    _, token = make_staff("head", "GM0363")
    first, second, third = spread_reports(3)
    since = as_aware_utc(third.updated_at)
    change_status(first, "in_progress", actor="test")
    db.session.commit()
    answer = client.get("/api/v1/reports", query_string={"updated_after": since.isoformat()},
                        headers=auth(token)).json
    assert [r["reference"] for r in answer["items"]] == [first.reference]
    assert answer["total"] == 1


def test_sort_by_change_walks_oldest_change_first_with_a_next_link(client, auth, make_staff):
    _, token = make_staff("head", "GM0363")
    reports = spread_reports(5)
    change_status(reports[0], "in_progress", actor="test")
    db.session.commit()
    first = client.get("/api/v1/reports?sort=updated_at&page_size=2", headers=auth(token)).json
    assert first["total"] == 5 and first["page"] == 1 and "next" in first
    items = walk(client, auth(token), "/api/v1/reports?sort=updated_at&page_size=2")
    assert [r["reference"] for r in items] == [r.reference for r in reports[1:]] + [reports[0].reference]
    stamps = [r["updated_at"] for r in items]
    assert stamps == sorted(stamps, key=datetime.fromisoformat)
    assert len(items) == 5


def test_a_report_changed_while_a_client_pages_is_neither_skipped_nor_repeated(client, auth, make_staff):
    """Between page fetches, a report not yet fetched changes (it moves to the end of the walk) and one already
    fetched changes (it comes once more, in its new state). Offsets would skip one report here."""
    _, token = make_staff("head", "GM0363")
    reports = spread_reports(7)
    unseen_changed, seen_changed = reports[3], reports[0]

    def change_some(page_number: int) -> None:
        if page_number == 1:
            change_status(unseen_changed, "in_progress", actor="test")
            change_status(seen_changed, "in_progress", actor="test")
            db.session.commit()

    items = walk(client, auth(token), "/api/v1/reports?sort=updated_at&page_size=3", between=change_some)
    references = [r["reference"] for r in items]
    assert set(references) == {r.reference for r in reports}, "no report is skipped"
    for report in reports:
        expected = 2 if report is seen_changed else 1
        assert references.count(report.reference) == expected, report.reference
    versions = [(r["reference"], r["updated_at"]) for r in items]
    assert len(versions) == len(set(versions)), "no report comes twice in the same state"
    assert items[-1]["reference"] in (unseen_changed.reference, seen_changed.reference)
    last_state = {r["reference"]: r["status"] for r in items}
    assert last_state[unseen_changed.reference] == last_state[seen_changed.reference] == "in_progress"


def test_next_keeps_the_filters_and_a_changed_order_of_fetches_ends(client, auth, make_staff):
    _, token = make_staff("head", "GM0363")
    spread_reports(3)
    light = make_report("Lamp kapot", category="straatverlichting-openbare-klok")
    page = client.get("/api/v1/reports?sort=updated_at&page_size=1&category=onderhoud-stoep-straat-en-fietspad",
                      headers=auth(token)).json
    query = parse_qs(urlsplit(page["next"]).query)
    assert query["category"] == ["onderhoud-stoep-straat-en-fietspad"] and "cursor" in query
    items = walk(client, auth(token), page["next"])
    assert light.reference not in {r["reference"] for r in items}
    assert len(items) == 2


@pytest.mark.parametrize("query", ["sort=updated_at&cursor=bm90LWEtY3Vyc29y", "sort=updated_at&cursor=%%%",
                                   "cursor=bm90LWEtY3Vyc29y", "sort=name", "updated_after=gisteren"])
def test_a_bad_cursor_or_sort_is_a_422_naming_it(client, auth, make_staff, query):
    _, token = make_staff("head", "GM0363")
    response = client.get(f"/api/v1/reports?{query}", headers=auth(token))
    assert response.status_code == 422
    assert any(name in response.get_data(as_text=True) for name in ("cursor", "sort", "updated_after"))


def test_a_cursor_pages_by_change_whatever_sort_says(client, auth, make_staff):
    """The OpenAPI document allows a cursor beside either sort: the cursor wins (it was handed out by a walk by
    change), rather than a valid request being refused."""
    _, token = make_staff("head", "GM0363")
    cursor = "eyJ1IjoiMjAyNi0wMS0wMVQwMDowMDowMCswMDowMCIsImkiOjF9"  # after 2026-01-01, report id 1
    for query in (f"cursor={cursor}", f"sort=created_at&cursor={cursor}"):
        assert client.get(f"/api/v1/reports?{query}", headers=auth(token)).status_code == 200, query


# --- Open311 servicerequestupdates?updated_after= ---------------------------------------------------------------

def updates(client, **params):
    response = client.get("/open311/v2/servicerequestupdates.json", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_open311_updates_after_a_moment_and_asking_again_with_the_last_one_misses_and_repeats_nothing(client):
    first, second = spread_reports(2)
    start = as_aware_utc(first.created_at) - timedelta(seconds=2)
    change_status(first, "in_progress", actor="test")
    db.session.commit()
    got = updates(client, updated_after=start.isoformat())
    assert [(u["service_request_id"], u["external_status_code"]) for u in got] == [(first.reference, "in_progress")]
    assert updates(client, updated_after=got[-1]["updated_datetime"]) == []
    change_status(second, "in_progress", actor="test")  # very likely within the same second as the first
    change_status(first, "planned", actor="test")
    db.session.commit()
    newer = updates(client, updated_after=got[-1]["updated_datetime"])
    assert [(u["service_request_id"], u["external_status_code"]) for u in newer] == [
        (second.reference, "in_progress"), (first.reference, "planned")]
    assert updates(client, updated_after=newer[-1]["updated_datetime"]) == []


def test_open311_updated_after_with_a_window_or_badly_written_is_a_400(client):
    for params in ({"updated_after": "2026-01-01T00:00:00Z", "start_date": "2026-01-01T00:00:00Z",
                    "end_date": "2026-01-02T00:00:00Z"}, {"updated_after": "gisteren"}):
        response = client.get("/open311/v2/servicerequestupdates.json", query_string=params)
        assert response.status_code == 400
        assert "updated_after" in response.json[0]["description"]
