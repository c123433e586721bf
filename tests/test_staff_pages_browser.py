"""Staff pages I in headless Chromium (Debian's /usr/bin/chromium through Playwright): street maps with pins
coloured as the legend says, the small map on a report, the internal/public note choice with the exact message
shown first, Dutch error pages, the backlog at laptop size, rules from pickers, and the chat's pin map starting
in its municipality. Tiles come from a loopback tile server (tests/fake_tiles.py): no outside traffic.

Set MELDINGEN_SCREENSHOT_DIR to keep screenshots (bench/screenshots.py does, for docs/screenshots/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fake_tiles import FakeTileServer
from sqlalchemy import select

from meldingen.extensions import db
from tests.factories import make_report
from tests.test_staff_browser import CHROMIUM, live_server, screenshot, sign_in

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module (each test opens its own context)."""
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def tiles():
    with FakeTileServer() as server:
        yield server


@pytest.fixture
def app_config(tiles):
    return {"TILE_URL": tiles.url, "TILE_ATTRIBUTION": "Kaartgegevens &copy; Kadaster (testtegels)"}


def colour_of(page, selector: str) -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor")


def test_crew_on_a_phone_sees_streets_pins_coloured_as_the_legend_says_and_a_small_map_of_the_spot(
        app, live_server, browser, make_staff, tiles):
    from meldingen.reports.services import change_status

    new = make_report("Losse stoeptegel", point=(52.3880, 4.8885))
    busy = make_report("Glasbak vol", point=(52.3895, 4.8900), category="container-is-vol")
    change_status(busy, "in_progress")
    planned = make_report("Tak hangt los", point=(52.3872, 4.8915), category="boom")
    change_status(planned, "in_progress")
    change_status(planned, "planned")
    late = make_report("Tegel al weken los", point=(52.3905, 4.8870))
    late.deadline = late.created_at - timedelta(days=1)
    crew, _ = make_staff("crew", "GM0363", new.department.code)
    for report in (busy, planned):
        report.department = new.department
    reference = new.reference
    db.session.commit()

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server, crew.email)
    page.wait_for_url("**/staff/map")
    page.wait_for_selector("#map.loaded")
    page.wait_for_selector(".marker-pin")
    page.wait_for_function("() => [...document.querySelectorAll('.leaflet-tile')].some(t => t.complete && t.naturalWidth > 0)")
    assert any(path.endswith(".png") for path in tiles.requests)  # street tiles asked from the tile server
    assert "Kadaster" in page.inner_text(".leaflet-control-attribution")
    for status in ("new", "in_progress", "planned"):
        assert colour_of(page, f".marker-pin.st-{status}") == colour_of(page, f".legend .dot.st-{status}")
    assert len({colour_of(page, f".marker-pin.st-{s}") for s in ("new", "in_progress", "planned")}) == 3
    late_pin = page.locator(".marker-pin.late")
    assert late_pin.count() == 1  # the red ring, as the legend's "te laat"
    assert "192, 57, 43" in late_pin.first.evaluate("e => getComputedStyle(e).boxShadow")
    assert "192, 57, 43" in page.eval_on_selector(".legend .dot.late", "e => getComputedStyle(e).boxShadow")
    letters = set(page.locator(".marker-pin").all_inner_texts())
    assert letters and all(len(letter) == 1 for letter in letters)  # main category as a letter
    assert "W" in page.inner_text("#legend-categories")
    screenshot(page, "crew-map-streets")

    page.goto(f"{live_server}/staff/reports/{reference}")  # one report: a small map of the spot
    page.wait_for_selector("#spot-map.loaded .marker-pin.st-new")
    page.wait_for_function("() => [...document.querySelectorAll('#spot-map .leaflet-tile')].some(t => t.naturalWidth > 0)")
    screenshot(page, "report-mini-map")
    context.close()


def test_head_on_a_laptop_sends_a_previewed_public_message_sees_a_truthful_backlog_and_dutch_error_pages(
        app, live_server, browser, make_staff):
    from meldingen.notify.models import OutboundMessage
    from meldingen.reports.models import Report, ReportSubscription
    from meldingen.residents.models import Reporter

    residents = [Reporter(channel_kind="webchat", platform_id=f"web-b{i}", display_name="x") for i in range(2)]
    db.session.add_all(residents)
    db.session.commit()
    report = make_report("Glasbak zit vol", category="container-is-vol", reporter_id=residents[0].id)
    db.session.add(ReportSubscription(report_id=report.id, reporter_id=residents[1].id))
    head, _ = make_staff("head", "GM0363")
    reference, report_id = report.reference, report.id
    db.session.commit()

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    sign_in(page, live_server, head.email)
    page.goto(f"{live_server}/staff/reports/{reference}")
    assert page.is_hidden("#resident-message")  # internal unless staff choose otherwise
    page.fill("textarea[name=note]", "Intern: glasbak 12 gaat morgen mee met de route")
    page.check("#to-resident")
    page.select_option("#standard-text", index=1)
    chosen = page.input_value("textarea[name=resident_message]")
    assert chosen
    page.click("button[name=status][value=done]")
    page.wait_for_selector("#preview-dialog[open]")
    shown = page.inner_text("#preview-texts pre")
    assert shown.startswith(f"Nieuws over uw melding {reference}: Afgehandeld.") and chosen in shown
    assert "2 melders" in page.inner_text("#preview-texts")
    screenshot(page, "note-public-preview")
    page.click("#preview-send")
    page.wait_for_selector(".flash.ok")
    assert "2 melders krijgen uw bericht" in page.inner_text(".flash.ok")
    assert "Bericht aan melder:" in page.inner_text(".history") and "Interne notitie:" in page.inner_text(".history")

    # the backlog fits a laptop: tables above the chart, "te laat" on screen, chart text readable
    for i in range(4):
        make_report(f"Melding {i}", point=(52.37 + i * 0.003, 4.88 + i * 0.002))
    db.session.commit()
    page.goto(f"{live_server}/staff/backlog")
    chart = page.locator("svg.chart").bounding_box()
    for table in page.locator(".columns.tables table").all():
        box = table.bounding_box()
        assert box["y"] + box["height"] <= chart["y"] + 1  # none runs under the chart
        header = table.locator("th", has_text="te laat").bounding_box()
        assert header["x"] + header["width"] <= LAPTOP["width"]
    assert page.locator("svg.chart text").first.bounding_box()["height"] >= 12  # was about 6 px
    page.locator("svg.chart").scroll_into_view_if_needed()
    screenshot(page, "head-backlog-chart")

    # pages that fail like pages
    answer = page.goto(f"{live_server}/staff/backlog?min_age=99999999999999999999")
    assert answer.status == 400 and page.inner_text("h1") == "Dit klopt niet"
    assert "heel getal" in page.inner_text("main")
    screenshot(page, "error-400")
    answer = page.goto(f"{live_server}/staff/reports/M-NIETS9")
    assert answer.status == 404 and page.inner_text("h1") == "Pagina niet gevonden"
    context.close()

    db.session.rollback()
    db.session.expire_all()
    sent = db.session.scalars(select(OutboundMessage).where(OutboundMessage.report_id == report_id)).all()
    assert len(sent) == 2 and all(m.body == shown for m in sent)
    assert db.session.get(Report, report_id).status == "done"
    assert all("glasbak 12" not in m.body for m in sent)


def test_admin_builds_a_rule_from_pickers(app, live_server, browser, make_staff):
    from meldingen.routing.models import RoutingRule

    admin, _ = make_staff("admin", "DSP")
    db.session.commit()
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/staff/admin/rules/new")
    page.fill("input[name=name]", "Lantaarnpalen in het weekend naar OVL")
    page.select_option("select[name=sub_slugs]", ["straatverlichting-openbare-klok"])
    page.check("input[name=weekdays][value='5']")
    page.check("input[name=weekdays][value='6']")
    page.check("input[name=organisation_codes][value=GM0363]")
    page.select_option("select[name=department_code]", "OVL")
    screenshot(page, "admin-rule-form")
    page.click("#rule-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert "Lantaarnpalen in het weekend" in page.inner_text("#rules")
    context.close()
    db.session.rollback()
    rule = db.session.scalar(select(RoutingRule).where(RoutingRule.name.like("Lantaarnpalen%")))
    assert rule.conditions["weekdays"] == [5, 6] and rule.department_code == "OVL"


def test_the_chat_pin_map_starts_in_the_municipality_of_the_page(app, live_server, browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server}/chat?gemeente=GM0114")
    page.click("#open-map")
    page.wait_for_selector("#map .leaflet-tile")
    centre = page.evaluate("() => chatTestHooks.map.getCenter()")
    assert 52.6 < centre["lat"] < 52.95 and 6.7 < centre["lng"] < 7.2  # Emmen, not the middle of the country
    screenshot(page, "chat-pin-map-emmen")
    context.close()
