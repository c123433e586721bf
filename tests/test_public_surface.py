"""Nothing internal and nothing that identifies a resident is reachable without sign-in (issue 23, part 1).

A walk over every route in `app.url_map`, as an anonymous client (no cookie, no token, no key), with path values
taken from a small world: a report whose resident wrote a phone number and an e-mail address, with a status change
whose internal note carries a phone number and a message to residents that carries an e-mail address, a staff note,
and a merged duplicate with a name in its words; both reports from residents with a phone number and a display name.

- a route of `authz.OPEN_ENDPOINTS` is requested in every format it has (Open311's .json and .xml, HTML pages, the
  JSON APIs that answer without a token): no answer contains an internal note, a resident identifier (platform id,
  phone number, display name) or the resident's words before redaction, and none is a 5xx;
- every other route must refuse an anonymous client (401, 403, or a redirect to the sign-in page), so a route that
  newly became public fails here until it is listed open and shown to be clean.

A new route is walked without a change here; only the few routes in EXCLUDED are not, each with its reason.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meldingen import authz
from meldingen.extensions import db
from tests.factories import make_report

pytestmark = pytest.mark.rolled_back

CATEGORY = "onderhoud-stoep-straat-en-fietspad"

INTERNAL_NOTE = "INTERN sleutel ligt bij de buurman, bel hem op 06-12345678"
STAFF_NOTE = "INTERN werkorder WO-778899 aangemaakt"
RESIDENT_MESSAGE = "We komen dinsdag de tegel vastzetten. Vragen? Mail h.debakker@voorbeeld.nl"
RESIDENT_TEXT = "Losse stoeptegel voor de deur, bel me op 06 11223344 of mail piet.puk@voorbeeld.nl"
DUPLICATE_TEXT = "Die stoeptegel ligt nog steeds los, mijn naam is Karel Appelboom"
RESIDENTS = (("whatsapp", "31687654321", "Wilhelmina Zonderland"),
             ("telegram", "5550199887766", "Cornelis Vlootbeek"))

# What no public answer may contain, in any spelling a serialiser could produce.
FORBIDDEN = {
    "internal note": ("sleutel ligt bij de buurman", "12345678"),
    "staff note": ("WO-778899",),
    "resident's phone number (text)": ("11223344",),
    "resident's e-mail address (text)": ("piet.puk",),
    "name in the duplicate's words": ("Appelboom",),
    "e-mail address in the message to residents": ("h.debakker",),
    "platform id": ("87654321", "0199887766"),
    "display name": ("Wilhelmina", "Zonderland", "Cornelis", "Vlootbeek"),
}

# Routes not walked, and why. Everything else in url_map is.
EXCLUDED = {
    "static": "files shipped with the package (CSS, JavaScript, images): no data of any report or resident",
    "webhooks.whatsapp_notification": "POST only, refused without the platform's signature; answers an acknowledgement",
    "webhooks.telegram_update": "POST only, refused without the platform's secret token; answers an acknowledgement",
    "webhooks.twilio_message": "POST only, refused without the platform's signature; answers an acknowledgement",
    "webhooks.messenger_event": "POST only, refused without the platform's signature; answers an acknowledgement",
}

FORMATS = ("json", "xml")


@pytest.fixture
def world(app):
    """The report (with its residents' words, an internal note, a message to residents and a staff note) and its
    merged duplicate, both from residents with a phone number and a display name."""
    from meldingen.dedup.services import merge_reports
    from meldingen.media.models import Photo
    from meldingen.reports.services import add_event, change_status
    from meldingen.residents.models import Reporter

    reporters = []
    for kind, platform_id, name in RESIDENTS:
        reporter = Reporter(channel_kind=kind, platform_id=platform_id, display_name=name)
        db.session.add(reporter)
        reporters.append(reporter)
    db.session.flush()
    report = make_report(RESIDENT_TEXT, channel="whatsapp", reporter_id=reporters[0].id, category=CATEGORY)
    change_status(report, "planned", INTERNAL_NOTE, actor="crew@amsterdam.test", resident_message=RESIDENT_MESSAGE)
    add_event(report, "note", actor="crew@amsterdam.test", note=STAFF_NOTE)
    db.session.commit()
    # 150 m east, so the pipeline does not merge it on arrival: staff merge it below.
    duplicate = make_report(DUPLICATE_TEXT, channel="telegram", reporter_id=reporters[1].id, category=CATEGORY,
                            point=(52.3877221, 4.8947727))
    if duplicate.duplicate_of_id is None:
        merge_reports(duplicate, report, actor="agent@amsterdam.test")
    photo = Photo(token="publicsurfacephoto0001", report_id=report.id, path="x.jpg", thumbnail_path="x-t.jpg",
                  width=1, height=1, size_bytes=1, sha256="0" * 64, source="whatsapp")
    db.session.add(photo)
    db.session.commit()
    return {"report": report, "duplicate": duplicate, "reporter": reporters[0], "photo": photo}


def _path_values(world) -> dict[str, list]:
    """Every value a path argument is walked with: real objects of the world where the route names one."""
    report, duplicate = world["report"], world["duplicate"]
    references = [report.reference, duplicate.reference]
    return {
        "fmt": list(FORMATS),
        "service_request_id": references,
        "reference": references,
        "token": [*references, world["photo"].token],  # Open311's tokens are references; a photo's its own
        "code": [CATEGORY],
        "rest": [f"requests/{report.reference}/notes.json", f"requests/{report.reference}/notes.xml"],
        "reporter_id": [world["reporter"].id],
        "category_id": [report.category_id],
        "kind": ["outbound"],
    }


def _queries(endpoint: str, world) -> list[str]:
    """Query strings that make a public reader answer with data (rather than a 400 for a missing parameter)."""
    report, duplicate = world["report"], world["duplicate"]
    return {
        "open311.service_requests": ["", f"?service_request_id={report.reference},{duplicate.reference}",
                                     "?status=closed", "?lat=52.3877&long=4.8926&radius=1000"],
        "open311.service_request_updates": [""],
        "geo.Lookup": ["?lat=52.3877221&lon=4.8925727"],
        "geo.Search": ["?q=Westerdoksdijk 40A Amsterdam"],
        "webhooks.whatsapp_handshake": ["?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"],
        "webhooks.messenger_handshake": ["?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"],
    }.get(endpoint, [""])


def _paths(rule, values: dict[str, list]) -> list[str]:
    """The rule built with every combination of its arguments' values (an unknown argument gets 1)."""
    combinations: list[dict] = [{}]
    for name in sorted(rule.arguments):
        combinations = [{**c, name: v} for c in combinations for v in values.get(name, [1])]
    return [rule.build(c, append_unknown=False)[1] for c in combinations]


def _requests(app, world):
    """(endpoint, method, path) of the walk, every route of url_map but EXCLUDED."""
    values = _path_values(world)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in EXCLUDED:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            queries = _queries(rule.endpoint, world) if method == "GET" else [""]
            for path in _paths(rule, values):
                for query in queries:
                    yield rule.endpoint, method, path + query


def _leaks(body: str) -> list[str]:
    return [f"{what}: {text!r}" for what, texts in FORBIDDEN.items() for text in texts if text in body]


def _refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 302 and "/staff/login" in response.headers.get("Location", "")


def test_nothing_internal_or_identifying_on_any_route_without_sign_in(app, world):
    walked: dict[tuple[str, str], set[str]] = {}
    problems = []
    public_bodies = []
    for endpoint, method, path in _requests(app, world):
        client = app.test_client(use_cookies=False)  # anonymous every time: no session a previous answer set
        body = {} if method != "GET" else None
        response = client.open(path, method=method, data=body)
        text = response.get_data(as_text=True)
        response.close()
        kind = ("json" if response.is_json else "xml" if response.mimetype.endswith("/xml")
                else "html" if response.mimetype == "text/html" else response.mimetype)
        walked.setdefault((method, endpoint), set()).add(kind)
        if endpoint in authz.OPEN_ENDPOINTS:
            if response.status_code >= 500:
                problems.append(f"{method} {path}: {response.status_code}")
            problems += [f"{method} {path} ({response.status_code}) shows {leak}" for leak in _leaks(text)]
            if response.status_code == 200:
                public_bodies.append(text)
        elif not _refused(response):
            problems.append(f"{method} {path} ({endpoint}) answers {response.status_code} without sign-in: "
                            "refuse it, or list it in authz.OPEN_ENDPOINTS and make it clean")
        else:
            problems += [f"{method} {path} (refused) shows {leak}" for leak in _leaks(text)]

    requests = sum(1 for _ in _requests(app, world))
    public = {key: kinds for key, kinds in walked.items() if key[1] in authz.OPEN_ENDPOINTS}
    print(f"public surface walk: {len(walked)} routes x methods ({len(public)} open, answered in "
          f"{sum(len(kinds) for kinds in public.values())} route x format pairs; {len(walked) - len(public)} "
          f"refused), {requests} requests")
    assert problems == [], "\n".join(problems)

    # The walk reached the world: the report is public in its redacted words, with the redacted message.
    everything = "\n".join(public_bodies)
    report = world["report"]
    assert report.reference in everything and world["duplicate"].reference in everything
    assert "[telefoonnummer]" in everything and "[e-mailadres]" in everything
    assert "We komen dinsdag de tegel vastzetten" in everything
    assert {"json", "xml"} <= walked[("GET", "open311.service_request_updates")]
    assert "html" in walked[("GET", "chat.chat_page")]
    assert len(walked) >= 100  # every route x method of the app (the count grows with the routes)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_status_update_says_the_status_and_the_redacted_message_never_the_note(client, world, fmt):
    import json
    import xml.etree.ElementTree as ET

    report = world["report"]
    response = client.get(f"/open311/v2/servicerequestupdates.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        updates = json.loads(response.get_data(as_text=True))
    else:
        updates = [{child.tag: child.text for child in item} for item in ET.fromstring(response.data)]
    (planned,) = [u for u in updates if u["service_request_id"] == report.reference
                  and u["external_status_code"] == "planned"]
    assert planned["description"] == ("Ingepland: We komen dinsdag de tegel vastzetten. Vragen? Mail [e-mailadres]")
    assert _leaks(response.get_data(as_text=True)) == []

    (shown,) = client.get(f"/open311/v2/requests/{report.reference}.json").json
    assert shown["status_notes"] == "We komen dinsdag de tegel vastzetten. Vragen? Mail [e-mailadres]"


def test_a_resident_asking_on_the_website_chat_hears_the_message_never_the_note(app, client):
    """The chat answers a resident's status question (reachable without sign-in) with the message to residents."""
    from fake_chat_platform import RESIDENTS as CHAT_RESIDENTS

    from meldingen.reports.models import Report
    from meldingen.reports.services import change_status

    resident = CHAT_RESIDENTS["webchat"](client, None, "a")
    resident.send_text("Losse stoeptegel")
    resident.send_location(52.3877221, 4.8925727)
    report = db.session.scalars(select(Report)).one()
    change_status(report, "planned", INTERNAL_NOTE, actor="crew", resident_message=RESIDENT_MESSAGE)
    change_status(report, "in_progress", "INTERN ploeg 3, sleutel ligt bij de buurman", actor="crew")
    db.session.commit()
    resident.send_text(f"status {report.reference}")
    answer = resident.replies()[-1]
    assert report.reference in answer and "We komen dinsdag" in answer
    assert "sleutel" not in answer and "12345678" not in answer and "ploeg 3" not in answer
