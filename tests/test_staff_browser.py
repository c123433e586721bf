"""The staff pages in headless Chromium (Debian's /usr/bin/chromium through Playwright): a field crew on a phone,
a department head's backlog and CSV, two agents racing for one conversation.

Set MELDINGEN_SCREENSHOT_DIR to keep screenshots of the main pages (bench/screenshots.py does, for docs/).
"""

from __future__ import annotations

import io
import os
import shutil
import threading
from pathlib import Path

import pytest
from PIL import Image

from meldingen.extensions import db

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                       reason="needs Debian's chromium at /usr/bin/chromium"),
]

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def live_server(app):
    """The app on a free loopback port, in a thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield instance
        instance.close()


def screenshot(page, name: str) -> None:
    folder = os.environ.get("MELDINGEN_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_field_crew_on_a_phone_marks_a_report_done_with_note_and_photo(app, live_server, browser, make_staff,
                                                                       tmp_path):
    from meldingen.notify.models import OutboundMessage
    from meldingen.reports.models import Report
    from meldingen.residents.models import Reporter
    from tests.factories import make_report

    reporter = Reporter(channel_kind="webchat", platform_id="web-777", display_name="Bewoner")
    db.session.add(reporter)
    db.session.commit()
    target = make_report("Losse stoeptegel bij de bushalte", reporter_id=reporter.id)
    others = [make_report("Tegel los", point=(52.3795, 4.8990)), make_report("Gat in de stoep",
                                                                              point=(52.3700, 4.8800))]
    crew, _ = make_staff("crew", "GM0363", target.department.code)
    reference, other_refs = target.reference, [r.reference for r in others]
    db.session.commit()
    photo = tmp_path / "na.jpg"
    Image.new("RGB", (320, 240), (90, 160, 90)).save(photo, "JPEG")

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server) else None)
    sign_in(page, live_server, crew.email)
    page.wait_for_url("**/staff/map")
    page.wait_for_selector("#map.loaded")
    assert page.get_attribute("#map", "data-markers") == "3"
    assert page.locator(".marker-pin, .marker-cluster").count() >= 1
    assert page.locator("path.leaflet-interactive").count() >= 1  # the area outlines, drawn without tiles
    assert not [u for u in outside if not u.startswith("data:")], outside  # nothing from a CDN
    screenshot(page, "crew-map")

    page.click(f"ol.cards a[href$='/staff/reports/{reference}']")
    page.wait_for_url(f"**/staff/reports/{reference}")
    assert page.locator("a.button", has_text="Navigeer").get_attribute("href").startswith("geo:")
    page.fill("textarea[name=note]", "Tegel teruggelegd en aangestampt")
    page.set_input_files("input[name=photo]", str(photo))
    screenshot(page, "crew-report")
    page.click("button[name=status][value=done]")
    page.wait_for_selector("#preview-dialog[open]")  # the resident hears of it: confirmed as what it is first
    assert "De melding wordt afgehandeld en 1 melder krijgt dit bericht." in page.inner_text("#preview-summary")
    page.click("#preview-send")
    page.wait_for_selector(".flash.ok")
    assert "Afgehandeld" in page.inner_text(".flash.ok")
    assert page.locator(".photos img").count() == 1
    assert page.evaluate("document.querySelector('.photos img').naturalWidth") > 0  # the thumbnail is served
    context.close()

    db.session.rollback()
    db.session.expire_all()
    done = db.session.query(Report).filter_by(reference=reference).one()
    assert done.status == "done" and len(done.photos) == 1
    assert done.events[-1].kind == "photo" and done.events[-2].note == "Tegel teruggelegd en aangestampt"
    assert all(db.session.query(Report).filter_by(reference=r).one().status == "new" for r in other_refs)
    assert db.session.query(OutboundMessage).filter_by(reporter_id=reporter.id, report_id=done.id).count() >= 1


def test_department_head_filters_the_backlog_and_downloads_the_csv(app, live_server, browser, make_staff):
    from datetime import timedelta

    from meldingen.timeutil import utcnow
    from tests.factories import make_report

    fresh = make_report("Nieuwe melding")
    late = make_report("Melding over de termijn", point=(52.3795, 4.8990))
    late.created_at, late.deadline = utcnow() - timedelta(days=20), utcnow() - timedelta(days=3)
    make_report("Nog een", point=(52.3700, 4.8800))
    head, _ = make_staff("head", "GM0363")
    fresh_ref, late_ref = fresh.reference, late.reference
    db.session.commit()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    sign_in(page, live_server, head.email)
    page.wait_for_url("**/staff/backlog")
    screenshot(page, "head-backlog")
    page.check("input[name=late]")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/staff/backlog?*late=1*")
    table = page.inner_text("#backlog-table")
    assert late_ref in table and fresh_ref not in table
    with page.expect_download() as info:
        page.click("#csv-export")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    body = Path(download.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("referentie;status;")
    assert [line.split(";")[0] for line in lines[1:]] == [late_ref]
    context.close()


def test_two_agents_claim_one_conversation_and_only_one_gets_it(app, live_server, browser, make_staff):
    from meldingen.residents.models import Conversation, ConversationMessage, Reporter
    from meldingen.timeutil import utcnow

    reporter = Reporter(channel_kind="whatsapp", platform_id="31612345678", display_name="Mevrouw de Vries")
    db.session.add(reporter)
    db.session.flush()
    conversation = Conversation(reporter_id=reporter.id, channel_kind="whatsapp", needs_person=True,
                                needs_person_reason="Vraagt naar de status van een oude melding",
                                needs_person_since=utcnow(), draft={})
    db.session.add(conversation)
    db.session.flush()
    db.session.add(ConversationMessage(conversation_id=conversation.id, direction="in",
                                       text="Hallo, is er al iets gebeurd met mijn melding van vorige week?"))
    one, _ = make_staff("agent", "DSP")
    two, _ = make_staff("agent", "DSP")
    conversation_id = conversation.id
    db.session.commit()

    pages = []
    for agent in (one, two):
        context = browser.new_context(viewport={"width": 1100, "height": 800})
        page = context.new_page()
        sign_in(page, live_server, agent.email)
        page.wait_for_url("**/staff/inbox")
        page.goto(f"{live_server}/staff/inbox/{conversation_id}")
        pages.append(page)
    screenshot(pages[0], "agent-inbox-conversation")
    # Both press "Neem in behandeling" at (nearly) the same moment.
    pages[0].locator("#claim").evaluate("b => b.form.requestSubmit()")
    pages[1].locator("#claim").evaluate("b => b.form.requestSubmit()")
    for page in pages:
        page.wait_for_load_state("load")
        page.wait_for_selector("#holder")
    texts = [page.inner_text("#holder") for page in pages]
    winners = [t for t in texts if "U heeft dit gesprek in behandeling" in t]
    assert len(winners) == 1, texts
    loser = pages[texts.index(next(t for t in texts if t not in winners))]
    assert "In behandeling bij agent" in loser.inner_text("#holder")
    assert loser.locator("textarea[name=body]").count() == 0
    winner = pages[texts.index(winners[0])]
    winner.fill("textarea[name=body]", "Goedemiddag, de ploeg is er morgen.")
    winner.click("form.reply button[type=submit]")
    winner.wait_for_selector(".flash.ok")
    inbox_page = pages[0]
    inbox_page.goto(f"{live_server}/staff/inbox")
    screenshot(inbox_page, "agent-inbox")
    for page in pages:
        page.context.close()
    db.session.rollback()
    from meldingen.notify.models import OutboundMessage

    assert db.session.query(OutboundMessage).filter_by(reporter_id=reporter.id).count() == 1


def test_admin_pages_render(app, live_server, browser, make_staff):
    admin, _ = make_staff("admin", "DSP")
    db.session.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, admin.email)
    page.wait_for_url("**/staff/admin")
    for name, path in (("admin-categories", "/staff/admin/categories"), ("admin-channels", "/staff/admin/channels")):
        page.goto(live_server + path)
        assert page.locator("h1").count() == 1
        screenshot(page, name)
    context.close()
