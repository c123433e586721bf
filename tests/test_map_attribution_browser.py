"""PDOK's licence on every map: the crew map, a report's small map, the work order's map, the backlog's hotspot
map, the inbox's place map and the resident chat's pin map each show "Kaartgegevens © Kadaster" beside Leaflet's
own attribution, in headless Chromium, with street tiles switched off (the area outlines come from PDOK too) and
with a configured attribution that lacks the Kadaster. Also checked without a browser: each page hands its map
the configured attribution."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meldingen.extensions import db
from meldingen.organisations.models import Organisation
from meldingen.residents.models import Conversation, ConversationMessage, Reporter
from meldingen.timeutil import utcnow
from tests.factories import make_report
from tests.test_staff_browser import CHROMIUM, PASSWORD, live_server, sign_in

KADASTER = "Kaartgegevens © Kadaster"


@pytest.fixture
def app_config():
    return {"TILE_URL": ""}  # no outside traffic; the attribution is owed all the same


def place_conversation() -> Conversation:
    org = db.session.query(Organisation).filter_by(code="GM0363").one()
    reporter = Reporter(channel_kind="webchat", platform_id="web-attribution", display_name="Bewoner")
    db.session.add(reporter)
    db.session.flush()
    since = utcnow() - timedelta(minutes=2)
    conversation = Conversation(reporter_id=reporter.id, channel_kind="webchat", needs_person=True,
                                needs_person_reason="De melder vraagt om een medewerker", needs_person_since=since,
                                organisation_id=org.id, draft={})
    db.session.add(conversation)
    db.session.flush()
    db.session.add(ConversationMessage(conversation_id=conversation.id, direction="in", at=since, kind="location",
                                       data={"location": {"lat": 52.3877, "lon": 4.8926, "name": None,
                                                          "address": None}}))
    db.session.commit()
    return conversation


def map_pages(make_staff) -> list[tuple[str | None, str, str]]:
    """(who signs in, page, the map's element) for every page with a map."""
    report = make_report("Losse stoeptegel", point=(52.3795, 4.8990))
    make_report("Nog een losse tegel", point=(52.3796, 4.8991))
    crew, _ = make_staff("crew", "GM0363", report.department.code)
    head, _ = make_staff("head", "GM0363")
    agent, _ = make_staff("agent", "DSP")
    conversation = place_conversation()
    reference = report.reference
    db.session.commit()
    return [
        (crew.email, "/staff/map", "#map"),
        (crew.email, f"/staff/reports/{reference}", "#spot-map"),
        (crew.email, f"/staff/reports/{reference}/werkbon", "#wo-map"),
        (head.email, "/staff/backlog", "#hotspot-map"),
        (agent.email, f"/staff/inbox/{conversation.id}", ".msg-map"),
        (None, "/chat", "#map"),
    ]


def test_every_page_hands_its_map_the_configured_attribution(app, make_staff):
    for email, path, _selector in map_pages(make_staff):
        client = app.test_client()
        if email:
            assert client.post("/staff/login", data={"email": email, "password": PASSWORD}).status_code == 302
        page = client.get(path).get_data(as_text=True)
        assert 'data-tile-attribution="Kaartgegevens &amp;copy; &lt;a href=&#34;https://www.kadaster.nl&#34;&gt;' \
               'Kadaster&lt;/a&gt;"' in page, path


@pytest.mark.browser
@pytest.mark.processes
@pytest.mark.parametrize("configured", [None, "Achtergrond © Voorbeeld"], ids=["default", "without-kadaster"])
def test_every_map_shows_kadaster_beside_leaflet(app, live_server, make_staff, configured):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if configured:
        app.config["TILE_ATTRIBUTION"] = configured
    pages = map_pages(make_staff)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for email, path, selector in pages:
            context = browser.new_context()
            page = context.new_page()
            if email:
                sign_in(page, live_server, email)
                page.wait_for_load_state()
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.goto(f"{live_server}{path}")
            if path == "/chat":
                page.click("#open-map")
            page.wait_for_selector(f"{selector} .leaflet-control-attribution")
            credit = page.inner_text(f"{selector} .leaflet-control-attribution")
            assert KADASTER in credit and "Leaflet" in credit, (path, credit)
            assert not errors, (path, errors)
            if configured:
                assert configured in credit, (path, credit)
            assert page.get_attribute(f"{selector} .leaflet-control-attribution a[href='https://www.kadaster.nl']",
                                      "href")
            context.close()
        browser.close()
