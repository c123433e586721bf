"""A field crew on a phone with a thousand reports (597 open in their department), in headless Chromium: the map
clusters wherever pins would overlap, at every zoom down to the spot where reports fan out, and the clusters'
counts add up to every open report; the list and "mijn werk" say the true counts and page on; a route made from
"mijn werk" is ordered from the phone's position and stays readable without signal; the report page does not
scroll sideways, has its status form a tap away and comes back to it after a change; and the first page opened
without signal is styled."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meldingen.extensions import db
from tests.factories import make_report
from tests.test_accessibility_browser import axe_violations
from tests.test_staff_browser import CHROMIUM, PHONE, live_server, screenshot, sign_in
from tests.test_staff_crew_volume import one_day
from tests.volume import CROWDED_SPOT, fill_reports

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

OPEN = 597
ASSIGNED = 23
CROWDED = 40


@pytest.fixture
def backend():
    """What the pages do in the database is specified on both databases without a browser
    (tests/test_staff_crew_volume.py); the browser runs once, on SQLite."""
    return "sqlite"


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield instance
        instance.close()


@pytest.fixture
def crew(app, make_staff):
    from meldingen.organisations.models import Department, Organisation

    org = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    departments = list(db.session.scalars(select(Department).where(Department.organisation_id == org.id)
                                          .order_by(Department.code).limit(2)))
    user, _ = make_staff("crew", "GM0363", departments[0].code)
    volume = fill_reports(departments[0], total=1000, open_in_department=OPEN, assigned=ASSIGNED, assignee=user,
                          crowded=CROWDED, other_department=departments[1])
    return user, volume


def phone(browser, **extra):
    return browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, **extra)


VISIBLE_MARKERS = """() => {
    const box = document.getElementById('map').getBoundingClientRect();
    const inside = r => r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom;
    const pins = [...document.querySelectorAll('.leaflet-marker-icon')]
        .filter(e => !e.classList.contains('marker-cluster'))
        .map(e => e.getBoundingClientRect()).filter(inside)
        .map(r => [r.left, r.top, r.right, r.bottom]);
    const clusters = [...document.querySelectorAll('.marker-cluster')]
        .map(e => [parseInt(e.textContent, 10), e.getBoundingClientRect()]).filter(c => inside(c[1]))
        .map(c => [c[0], c[1].left, c[1].top, c[1].right, c[1].bottom]);
    const fanned = [...document.querySelectorAll('.marker-cluster')].filter(e => e.style.opacity === '0.3');
    return {pins, clusters, spiderfied: fanned.length ? parseInt(fanned[0].textContent, 10) : 0};
}"""


def settle(page) -> None:
    """Wait until the map stopped zooming and the clusters stopped moving apart or together."""
    page.wait_for_function("""() => !document.querySelector('.leaflet-zoom-anim, .leaflet-cluster-anim')""")
    page.wait_for_timeout(300)  # the markers' fade (markercluster) after the last animation frame
    page.wait_for_function("""() => !document.querySelector('.leaflet-zoom-anim, .leaflet-cluster-anim')""")


def overlapping(boxes) -> list:
    """Pairs of pins whose boxes overlap by more than a couple of pixels (a tap would hit both)."""
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if min(a[2], b[2]) - max(a[0], b[0]) > 2 and min(a[3], b[3]) - max(a[1], b[1]) > 2:
                pairs.append((a, b))
    return pairs


def test_the_crews_map_clusters_overlapping_pins_at_every_zoom_and_the_counts_add_up(app, live_server, browser,
                                                                                      crew):
    user, volume = crew
    context = phone(browser, bypass_csp=True)  # bypass: axe-core is injected as a script
    page = context.new_page()
    sign_in(page, live_server, user.email)
    page.wait_for_url("**/staff/map")
    page.wait_for_selector("#map.loaded", timeout=30_000)
    assert page.get_attribute("#map", "data-markers") == str(OPEN)
    assert page.inner_text("#list-count") == f"{OPEN} open meldingen"
    assert not axe_violations(page)  # the clusters' counts are readable too
    screenshot(page, "crew-map-volume")

    zooms = 0
    while True:
        settle(page)
        seen = page.evaluate(VISIBLE_MARKERS)
        if seen["spiderfied"]:
            break
        assert not overlapping(seen["pins"]), f"pins on top of each other after {zooms} taps on clusters"
        if zooms == 0:  # the whole area in view: every open report is a pin or counted in a cluster
            assert len(seen["pins"]) + sum(c[0] for c in seen["clusters"]) == OPEN
            assert seen["clusters"], "a thousand reports in one view must cluster"
        assert seen["clusters"] and zooms < 20, "the busy spot's reports never fanned out"
        # Tapping a cluster zooms in to its reports; where they cannot be told apart at the closest zoom, they
        # fan out around the cluster to be tapped one by one.
        biggest = max(seen["clusters"], key=lambda c: c[0])
        page.mouse.click((biggest[1] + biggest[3]) / 2, (biggest[2] + biggest[4]) / 2)
        zooms += 1
    assert zooms >= 2  # clustered at more than the first zoom
    assert seen["spiderfied"] >= CROWDED and len(seen["pins"]) >= CROWDED

    # Zoomed in further over the busy spot, step by step to the closest zoom: never a pile of pins there.
    page.keyboard.press("Escape")
    page.mouse.click(PHONE["width"] - 40, 220)  # the empty map: the fanned-out pins fold back
    for step in range(6):
        settle(page)
        seen = page.evaluate(VISIBLE_MARKERS)
        assert not overlapping(seen["pins"]), f"pins on top of each other at the busy spot, step {step}"
        crowd = [c for c in seen["clusters"] if c[0] >= CROWDED]
        assert crowd, "the busy spot's reports are one cluster with their count"
        page.mouse.move((crowd[0][1] + crowd[0][3]) / 2, (crowd[0][2] + crowd[0][4]) / 2)
        page.mouse.wheel(0, -240)
    context.close()


def test_the_list_and_my_work_say_the_true_counts_and_page_on(app, live_server, browser, crew):
    user, volume = crew
    context = phone(browser)
    page = context.new_page()
    sign_in(page, live_server, user.email)
    page.wait_for_url("**/staff/map")
    assert page.inner_text("#list-count") == f"{OPEN} open meldingen"
    assert page.locator("ol.cards > li").count() == 100
    page.click("#list-next")
    page.wait_for_url("**/staff/map?*page=2*")
    assert page.inner_text("#list-range").startswith(f"101–200 van {OPEN}")

    page.goto(f"{live_server}/staff/werk")
    text = page.inner_text("#work-count")
    assert f"{OPEN} open meldingen" in text and f"{ASSIGNED} op uw naam" in text and "1–60 getoond" in text
    assert page.locator("#worklist li.work.mine").count() == ASSIGNED
    assert page.locator("#worklist li.work").nth(ASSIGNED - 1).get_attribute("class").startswith("work mine")
    page.click("#work-next")
    page.wait_for_url("**/staff/werk?*page=2*")
    assert "61–120 getoond" in page.inner_text("#work-count")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "crew-my-work-volume")
    assert page.locator("#worklist li.work").count() == 60
    context.close()


# Going offline cuts Chromium's fetches of static files mid-response; the test server (werkzeug, a thread) can
# then leave that file to the garbage collector, and its ResourceWarning would fail this test for the harness.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_route_made_from_my_work_is_ordered_from_where_the_crew_stands_and_kept_offline(app, live_server,
                                                                                          browser, crew, one_day):
    from meldingen.reports.models import Report

    user, volume = crew
    context = phone(browser, geolocation={"latitude": CROWDED_SPOT[0], "longitude": CROWDED_SPOT[1]},
                    permissions=["geolocation"])
    page = context.new_page()
    sign_in(page, live_server, user.email)
    page.goto(f"{live_server}/staff/werk")
    picks = page.eval_on_selector_all("#worklist li.work:not(.mine) > a",
                                      "links => links.slice(0, 3).map(a => a.href.split('/').pop())")
    for reference in picks:
        page.click(f"#worklist li:has(a[href$='/staff/reports/{reference}']) form.route-toggle button")
        page.wait_for_selector(".flash.ok")
    assert "Mijn route vandaag (3)" in page.inner_text("#route-link")
    page.click("#route-link")
    page.wait_for_url("**/staff/route")
    page.click("#order-route")
    page.wait_for_selector(".flash.ok:has-text('vanaf uw positie')")
    order = page.eval_on_selector_all("#worklist li.work > a", "links => links.map(a => a.href.split('/').pop())")
    assert sorted(order) == sorted(picks)
    points = {r: (lat, lon) for r, lat, lon in db.session.execute(
        select(Report.reference, Report.lat, Report.lon).where(Report.reference.in_(picks)))}
    from meldingen.staff.mywork import distance_m

    assert distance_m(CROWDED_SPOT, points[order[0]]) == min(distance_m(CROWDED_SPOT, p) for p in points.values())
    page.wait_for_selector("body[data-offline-ready='1']", timeout=20_000)
    screenshot(page, "crew-route")

    context.set_offline(True)
    page.goto(f"{live_server}/staff/route")  # from the phone's copy
    assert page.eval_on_selector_all("#worklist li.work > a",
                                     "links => links.map(a => a.href.split('/').pop())") == order
    page.click(f"#worklist a[href$='/staff/reports/{order[0]}']")
    page.wait_for_url(f"**/staff/reports/{order[0]}")
    assert order[0] in page.inner_text("h1")
    context.close()


def test_on_a_phone_the_report_page_never_scrolls_sideways_and_comes_back_to_the_form_after_a_change(
        app, live_server, browser, make_staff):
    report = make_report("Zie https://www.voorbeeld.nl/melding/" + "heelerglangwoordzonderspaties" * 8
                         + "\nEn nog een regel.")
    user, _ = make_staff("crew", "GM0363", report.department.code)
    reference = report.reference
    context = phone(browser)
    page = context.new_page()
    sign_in(page, live_server, user.email)
    page.wait_for_url("**/staff/map")
    page.goto(f"{live_server}/staff/reports/{reference}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator(".implicit-submit-guard").is_hidden()  # the form's default button is no blue block
    jump = page.locator("#jump-to-status")
    assert jump.bounding_box()["y"] < PHONE["height"]  # a tap away, on the first screen
    jump.click()
    form_top = page.evaluate("document.getElementById('status-update').getBoundingClientRect().top")
    assert 0 <= form_top < PHONE["height"] / 2
    page.fill("textarea[name=note]", "Gaan we morgen doen")
    page.click("button[name=status][value=in_progress]")
    page.wait_for_url(f"**/staff/reports/{reference}#status-update")
    flash = page.locator("#status-update .flash.ok")
    assert "In behandeling" in flash.inner_text()
    box = flash.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]  # in view: not back at the top
    assert page.evaluate("window.scrollY") > 0
    screenshot(page, "crew-report-after-change")
    context.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_first_page_opened_without_signal_is_styled(app, live_server, browser, make_staff):
    report = make_report("Losse stoeptegel bij de ingang")
    user, _ = make_staff("crew", "GM0363", report.department.code)
    context = phone(browser)
    page = context.new_page()
    refused = []
    page.on("response", lambda r: refused.append(r.url) if "/static/" in r.url and r.status >= 500 else None)
    sign_in(page, live_server, user.email)
    page.wait_for_url("**/staff/map")
    page.goto(f"{live_server}/staff/werk")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # installed, so its precache is done
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    # Kept at install, not because a page asked: the map's scripts were fetched before the worker existed and
    # no page asks to keep them.
    assert page.evaluate("""() => caches.keys().then(keys => Promise.all(keys.map(k => caches.open(k)
        .then(c => c.match('/static/vendor/leaflet.markercluster/leaflet.markercluster.js')))))
        .then(found => found.some(Boolean))""")
    context.set_offline(True)
    page.goto(f"{live_server}/staff/reports/M-ZZZZZZ")  # a page the phone never kept: the worker's own answer
    assert "niet op de telefoon bewaard" in page.inner_text("#offline-message")
    # ... styled by the staff stylesheet (its page background), not a bare page
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 247, 249)"
    page.goto(f"{live_server}/staff/werk")
    assert page.eval_on_selector("header.topbar", "e => getComputedStyle(e).backgroundColor") == "rgb(19, 41, 75)"
    assert not refused
    context.close()
