"""The website chat in a real browser: a resident without a chat app sends a photo, drops a pin and is told
the reference. Headless Chromium from Debian, driven by Playwright; the app is served on a loopback port."""

from __future__ import annotations

import threading

import pytest
from fake_platforms import jpeg_bytes
from sqlalchemy import select
from werkzeug.serving import make_server

from meldingen.extensions import db
from meldingen.reports.models import Report

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def app_config():
    # The page polls while the server works in its threads: background work on the thread backend, as in production.
    return {"JOBS_BACKEND": "thread", "JOBS_RAISE": False}


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.browser
def test_resident_sends_photo_and_pin_and_sees_the_reference(app, live_server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    photo = tmp_path / "tegel.jpg"
    photo.write_bytes(jpeg_bytes(320, 240, "gray"))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--headless", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            page.goto(f"{live_server}/chat")
            page.set_input_files("#photo-input", str(photo))
            page.wait_for_selector("#messages li.out >> text=Waar is het probleem", timeout=15000)
            page.fill("#text-input", "Losse stoeptegel bij de ingang")
            page.click("#send-text")
            page.wait_for_selector("#messages li.out >> text=Deel de locatie", timeout=15000)
            page.click("#open-map")
            page.wait_for_selector("#map.leaflet-container")
            # Centre the map on Westerdoksdijk, Amsterdam, and tap its middle.
            page.evaluate("() => chatTestHooks.map.setView([52.3877221, 4.8925727], 18, {animate: false})")
            page.locator("#map").tap()  # a finger on the middle of the map
            page.click("#send-pin")
            reply = page.wait_for_selector("#messages li.out >> text=Uw meldnummer is", timeout=20000)
            text = reply.inner_text()
        finally:
            browser.close()
    db.session.remove()
    report = db.session.scalar(select(Report))
    assert report is not None and report.reference in text
    assert report.municipality_code == "GM0363" and len(report.photos) == 1
    assert abs(report.lat - 52.3877221) < 0.001 and abs(report.lon - 4.8925727) < 0.001
