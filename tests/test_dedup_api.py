"""The duplicates API: staff see a report's candidates with reasons, merge by hand and undo a merge."""

from __future__ import annotations

from meldingen.extensions import db
from tests.factories import AMSTERDAM, EMMEN, make_report

FAR = (AMSTERDAM[0], AMSTERDAM[1] + 0.003)  # 200 m on: not found automatically
NEAR = (AMSTERDAM[0], AMSTERDAM[1] + 19 / 67_900)  # 19 m on: within GPS error, merged (issue 24)
FARTHER = (AMSTERDAM[0], AMSTERDAM[1] + 40 / 67_900)  # 40 m on: a suggestion, not a merge


def test_candidates_come_with_their_reasons(client, auth, make_staff):
    _, token = make_staff("head")
    known = make_report("Losse stoeptegel", point=AMSTERDAM)
    new = make_report("Stoep verzakt", point=FARTHER)
    body = client.get(f"/api/v1/reports/{new.reference}/candidates", headers=auth(token)).json
    assert body["reference"] == new.reference and body["duplicate_of"] is None
    (candidate,) = body["candidates"]
    assert candidate["reference"] == known.reference and 0.2 <= candidate["score"] < 0.8
    assert 38 < candidate["reasons"]["distance_m"] < 42 and candidate["reasons"]["same_category"] is True


def test_merge_and_unmerge_by_hand(client, auth, make_staff):
    head, token = make_staff("head")
    known = make_report("Losse stoeptegel", point=AMSTERDAM)
    other = make_report("Tegel los", point=FAR)
    merged = client.post(f"/api/v1/reports/{other.reference}/merge",
                         json={"into": known.reference, "reason": "Zelfde losse tegel, verkeerd punt geprikt"},
                         headers=auth(token))
    assert merged.status_code == 200
    assert merged.json["duplicate_of"] == known.reference and merged.json["status"] == "duplicate"
    shown = client.get(f"/api/v1/reports/{known.reference}", headers=auth(token)).json
    assert shown["duplicates"] == [other.reference] and shown["reporters_count"] == 2
    listed = client.get("/api/v1/reports?hide_duplicates=true", headers=auth(token)).json
    assert [r["reference"] for r in listed["items"]] == [known.reference]
    again = client.post(f"/api/v1/reports/{other.reference}/merge", json={"into": known.reference},
                        headers=auth(token))
    assert again.status_code == 409 and "already merged" in again.json["message"]

    undone = client.post(f"/api/v1/reports/{other.reference}/unmerge", headers=auth(token))
    assert undone.status_code == 200
    assert (undone.json["status"], undone.json["duplicate_of"]) == ("new", None)
    history = undone.json["history"]
    assert [h["by"] for h in history if h["status"] == "duplicate"] == [head.email]
    shown = client.get(f"/api/v1/reports/{known.reference}", headers=auth(token)).json
    assert shown["duplicates"] == [] and shown["reporters_count"] == 1
    assert client.post(f"/api/v1/reports/{other.reference}/unmerge", headers=auth(token)).status_code == 409


def test_merging_into_a_closed_report_is_refused(client, auth, make_staff):
    from meldingen.reports.services import change_status

    _, token = make_staff("head")
    known = make_report("Losse stoeptegel", point=AMSTERDAM)
    change_status(known, "done", "Hersteld")
    db.session.commit()
    other = make_report("Tegel los", point=FAR)
    answer = client.post(f"/api/v1/reports/{other.reference}/merge", json={"into": known.reference},
                         headers=auth(token))
    assert answer.status_code == 409 and "closed" in answer.json["message"]


def test_only_deciders_of_the_own_organisation_merge(client, auth, make_staff):
    _, crew = make_staff("crew")
    _, emmen_head = make_staff("head", "GM0114")
    known = make_report("Losse stoeptegel", point=AMSTERDAM)
    other = make_report("Tegel los", point=FAR)
    in_emmen = make_report("Tegel los", point=EMMEN)
    url = f"/api/v1/reports/{other.reference}/merge"
    assert client.post(url, json={"into": known.reference}).status_code == 401
    assert client.post(url, json={"into": known.reference}, headers=auth(crew)).status_code == 403
    assert client.post(url, json={"into": known.reference}, headers=auth(emmen_head)).status_code == 404
    assert client.post(f"/api/v1/reports/{in_emmen.reference}/merge", json={"into": known.reference},
                       headers=auth(emmen_head)).status_code == 404
    assert client.get(f"/api/v1/reports/{other.reference}/candidates", headers=auth(emmen_head)).status_code == 404


def test_merging_reports_200_m_apart_without_a_reason_is_refused_and_names_the_distance(client, auth, make_staff):
    _, token = make_staff("head")
    known = make_report("Losse stoeptegel", point=AMSTERDAM)
    other = make_report("Tegel los", point=FAR)
    refused = client.post(f"/api/v1/reports/{other.reference}/merge", json={"into": known.reference},
                          headers=auth(token))
    assert refused.status_code == 409
    assert "give a reason" in refused.json["message"] and "m apart" in refused.json["message"]
    db.session.expire_all()
    assert other.duplicate_of_id is None and other.status == "new"


def test_merging_reports_of_unrelated_categories_37_m_apart_needs_a_reason_which_both_histories_keep(
        client, auth, make_staff):
    _, token = make_staff("head")
    known = make_report("Losse stoeptegel", point=AMSTERDAM)
    other = make_report("Container zit vol", point=(AMSTERDAM[0], AMSTERDAM[1] + 37 / 67_900),
                        category="container-is-vol")
    url = f"/api/v1/reports/{other.reference}/merge"
    preview = client.get(f"{url}?into={known.reference}", headers=auth(token))
    assert preview.status_code == 200
    body = preview.json
    assert body["needs_reason"] is True and body["same_category"] is False and 35 < body["distance_m"] < 39
    assert (body["duplicate"]["category"], body["into"]["category"]) == (
        "container-is-vol", "onderhoud-stoep-straat-en-fietspad")
    assert "different categories" in body["concerns"][0]
    assert client.post(url, json={"into": known.reference}, headers=auth(token)).status_code == 409
    done = client.post(url, json={"into": known.reference, "reason": "Melder bedoelde de tegel"},
                       headers=auth(token))
    assert done.status_code == 200 and done.json["duplicate_of"] == known.reference
    db.session.expire_all()
    for report in (known, other):
        assert any(e.kind == "note" and "Melder bedoelde de tegel" in (e.note or "") for e in report.events)


def test_a_near_pair_of_one_category_merges_without_a_reason(client, auth, make_staff):
    _, token = make_staff("head")
    from meldingen.pipeline import change_category
    from meldingen.reports.services import find_sub_category

    known = make_report("Losse stoeptegel", point=AMSTERDAM)
    # Filed under another category first (so not merged on arrival), then corrected by staff.
    other = make_report("Stoep verzakt", point=NEAR, category="grofvuil")
    change_category(other, find_sub_category(known.category.slug), actor="test")
    db.session.commit()
    preview = client.get(f"/api/v1/reports/{other.reference}/merge?into={known.reference}", headers=auth(token))
    assert preview.json["needs_reason"] is False and preview.json["concerns"] == []
    assert client.post(f"/api/v1/reports/{other.reference}/merge", json={"into": known.reference},
                       headers=auth(token)).status_code == 200
