"""Staff pages II in headless Chromium (Debian's /usr/bin/chromium through Playwright): a head searching and
changing many reports at once and merging one by typed reference (laptop), an agent's inbox with a photo and a
message arriving without reload (laptop), a crew's "mijn werk" readable without signal with a status change kept
until the phone is online again (phone), and a printed work order.

Set MELDINGEN_SCREENSHOT_DIR to keep screenshots (bench/screenshots.py does, for docs/screenshots/).
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image

from meldingen.extensions import db
from tests.factories import make_report
from tests.test_staff_browser import PHONE, browser, live_server, screenshot, sign_in
from tests.test_staff_browser import pytestmark as browser_marks

pytestmark = list(browser_marks)


@pytest.fixture
def backend():
    """The browser drives the pages once, on SQLite: what the pages do in the database is specified per database
    by the tests without a browser (test_staff_search/merge/crew/inbox_agent), and the test-time budget is
    spent there."""
    return "sqlite"

LAPTOP = {"width": 1366, "height": 800}
BARENTSZPLEIN = (52.3892794, 4.8910276)
BICKERSGRACHT = (52.3867425, 4.8886499)


def jpeg_bytes(colour=(60, 130, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 360), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_head_finds_reports_plans_two_at_once_and_merges_one_by_typed_reference_with_a_reason(
        app, live_server, browser, make_staff):
    first = make_report("Lantaarnpaal brandt niet meer", point=BARENTSZPLEIN,
                        category="straatverlichting-openbare-klok")
    second = make_report("Stoeptegels liggen los rond de boom")
    third = make_report("Container zit propvol", point=BICKERSGRACHT, category="container-is-vol")
    head, _ = make_staff("head", "GM0363")
    refs = first.reference, second.reference, third.reference
    db.session.commit()

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    sign_in(page, live_server, head.email)
    page.wait_for_url("**/staff/backlog")
    page.click("nav a:text('Zoeken')")  # a head's search is the one list, the backlog
    page.wait_for_url("**/staff/backlog")
    page.fill("#filters input[name=q]", "westerdok")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/staff/backlog?q=westerdok*")
    assert page.inner_text("#list-count").startswith("1 melding")
    page.fill("#filters input[name=q]", "")
    page.check("#filters input[name=late]")
    page.uncheck("#filters input[name=late]")
    page.select_option("#filters select[name=sort]", "newest")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/staff/backlog?sort=newest")  # empty fields stay out of the link
    for ref in refs:
        assert page.locator(f"input[name=reference][value='{ref}']").count() == 1
    page.check(f"input[name=reference][value='{refs[0]}']")
    page.check(f"input[name=reference][value='{refs[1]}']")
    page.select_option("fieldset.bulk select[name=status]", "planned")
    screenshot(page, "staff-search")
    page.click("#bulk-apply")
    page.wait_for_selector(".flash.ok")
    assert "2 meldingen bijgewerkt" in page.inner_text(".flash.ok")
    assert page.url.endswith("/staff/backlog?sort=newest")  # back on the same list
    screenshot(page, "staff-bulk-actions")

    # The container is no duplicate of the lantern: merging it by typed reference asks why.
    page.goto(f"{live_server}/staff/reports/{refs[2]}")
    page.fill("form.merge-by-reference input[name=target]", refs[0].lower())
    page.click("form.merge-by-reference button")
    page.wait_for_selector("#merge-distance")
    assert " m" in page.inner_text("#merge-distance") and "andere categorie" in page.inner_text("#merge-distance")
    assert page.get_attribute("textarea[name=reason]", "required") is not None
    screenshot(page, "staff-merge-review")
    page.fill("textarea[name=reason]", "Melder bedoelde de lantaarnpaal")
    page.click("#merge-confirm")
    page.wait_for_url(f"**/staff/reports/{refs[0]}")
    assert f"{refs[2]} is samengevoegd" in page.inner_text(".flash.ok")
    context.close()
    db.session.rollback()
    db.session.expire_all()
    assert [r.status for r in (first, second, third)] == ["planned", "planned", "duplicate"]


def test_an_agent_sees_the_residents_photo_and_a_new_message_without_reloading(app, live_server, browser,
                                                                              make_staff):
    from meldingen.media.services import store_photo
    from meldingen.organisations.models import Organisation
    from meldingen.residents.models import Conversation, ConversationMessage, Reporter
    from meldingen.timeutil import utcnow

    org = db.session.query(Organisation).filter_by(code="GM0363").one()
    reporter = Reporter(channel_kind="whatsapp", platform_id="31612345678", display_name="Fatima el Amrani")
    db.session.add(reporter)
    db.session.flush()
    conversation = Conversation(reporter_id=reporter.id, channel_kind="whatsapp", needs_person=True,
                                needs_person_reason="De melder vraagt om een medewerker",
                                needs_person_since=utcnow() - timedelta(minutes=4), organisation_id=org.id, draft={})
    db.session.add(conversation)
    db.session.flush()
    photo = store_photo(jpeg_bytes((170, 90, 40)), source="whatsapp", conversation_id=conversation.id)
    db.session.flush()
    db.session.add_all([
        ConversationMessage(conversation_id=conversation.id, direction="in", kind="photo",
                            text="Deze bank is kapot, er steekt een spijker uit", data={"photo_ids": [photo.id]}),
        ConversationMessage(conversation_id=conversation.id, direction="in", kind="location",
                            data={"location": {"lat": 52.3877, "lon": 4.8926}}),
        ConversationMessage(conversation_id=conversation.id, direction="out", kind="text",
                            text="Dank u wel. Een medewerker kijkt mee."),
    ])
    agent, _ = make_staff("agent", "DSP")
    conversation_id = conversation.id
    db.session.commit()

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    sign_in(page, live_server, agent.email)
    page.wait_for_url("**/staff/inbox")
    item = page.locator(f"#inbox-list li[data-id='{conversation_id}']")
    assert "Fatima A. · WhatsApp · +31 6 •••• 5678" in item.inner_text()
    assert "Locatie gedeeld" in item.inner_text() and "medewerker kijkt mee" not in item.inner_text()
    screenshot(page, "agent-inbox-list")
    page.goto(f"{live_server}/staff/inbox/{conversation_id}")
    page.wait_for_function("document.querySelector('.chat-photo img') && "
                           "document.querySelector('.chat-photo img').naturalWidth > 0")
    assert page.locator(".chat-location").count() == 1
    db.session.add(ConversationMessage(conversation_id=conversation_id, direction="in", kind="text",
                                       text="Hij staat bij de ingang van het park"))
    db.session.commit()
    page.wait_for_selector("li.msg.in:has-text('ingang van het park')", timeout=15_000)
    screenshot(page, "agent-inbox-photo")
    context.close()


# Going offline cuts Chromium's fetches of static files mid-response; the test server (werkzeug, a thread)
# can then leave that file to the garbage collector, and its ResourceWarning would fail this test for the
# harness, not for the page. What the test asserts is unchanged.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_crews_work_stays_readable_without_signal_and_a_status_change_waits_until_online(
        app, live_server, browser, make_staff):
    from meldingen.media.services import store_photo
    from meldingen.reports.models import Report

    mine = make_report("Stoeptegel steekt omhoog, struikelgevaar")
    store_photo(jpeg_bytes(), source="staff", report_id=mine.id)
    other = make_report("Gat in het fietspad", point=BARENTSZPLEIN)
    crew, _ = make_staff("crew", "GM0363", mine.department.code)
    mine.assignee_id = crew.id
    reference, other_ref = mine.reference, other.reference
    db.session.commit()

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  geolocation={"latitude": BARENTSZPLEIN[0], "longitude": BARENTSZPLEIN[1]},
                                  permissions=["geolocation"])
    page = context.new_page()
    sign_in(page, live_server, crew.email)
    page.goto(f"{live_server}/staff/werk")
    page.click("#nearest-first")
    page.wait_for_url("**/staff/werk?lat=*")
    cards = page.locator("#worklist li.work")
    assert reference in cards.nth(0).inner_text() and "aan mij" in cards.nth(0).inner_text()
    assert other_ref in cards.nth(1).inner_text()
    page.wait_for_selector("body[data-offline-ready='1']", timeout=20_000)
    screenshot(page, "crew-my-work")

    context.set_offline(True)
    page.goto(f"{live_server}/staff/werk")  # from the phone's copy
    assert reference in page.inner_text("#worklist")
    page.goto(f"{live_server}/staff/reports/{reference}")
    page.wait_for_function("document.querySelector('.photos img') && "
                           "document.querySelector('.photos img').naturalWidth > 0")
    page.locator("button[name=status][value=in_progress]").click()
    page.wait_for_selector("#offline-message")
    assert "bewaard" in page.inner_text("#offline-message")
    db.session.rollback()
    assert db.session.query(Report).filter_by(reference=reference).one().status == "new"

    context.set_offline(False)
    page.goto(f"{live_server}/staff/werk")  # the page asks the service worker to send what waited
    report = None
    for _ in range(100):
        db.session.rollback()
        report = db.session.query(Report).filter_by(reference=reference).one()
        if report.status == "in_progress":
            break
        page.wait_for_timeout(100)
    assert report.status == "in_progress"
    assert [e.actor for e in report.events if e.kind == "status"] == [crew.email]
    context.close()


def test_a_work_order_prints_reference_address_photo_history_and_qr_on_a4(app, live_server, browser, make_staff,
                                                                          tmp_path):
    from meldingen.media.services import store_photo

    report = make_report("Lantaarnpaal hangt scheef na aanrijding")
    store_photo(jpeg_bytes((200, 200, 60)), source="staff", report_id=report.id)
    crew, _ = make_staff("crew", "GM0363", report.department.code)
    reference = report.reference
    db.session.commit()
    context = browser.new_context(viewport={"width": 1000, "height": 1300})
    page = context.new_page()
    sign_in(page, live_server, crew.email)
    page.goto(f"{live_server}/staff/reports/{reference}")
    page.click("#work-order-link")
    page.wait_for_url(f"**/staff/reports/{reference}/werkbon")
    page.emulate_media(media="print")
    assert page.locator("header.topbar").is_hidden() and page.locator(".screen-only").is_hidden()
    assert page.locator("figure.qr svg path").count() == 1
    assert "Westerdoksdijk 40A" in page.inner_text("#wo-address")
    page.wait_for_function("document.querySelector('.wo-photos img').naturalWidth > 0")
    screenshot(page, "work-order-print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    assert 1 <= len(re.findall(rb"/Type\s*/Page[^s]", pdf)) <= 2  # one sheet, two at most with many photos
    (tmp_path / "werkbon.pdf").write_bytes(pdf)
    context.close()
