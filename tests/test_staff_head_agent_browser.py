"""The heads' list and the agents' reply texts in headless Chromium: hotspot counts are written on the map (no
hovering), "select all" ticks the page's rows, and a reply text goes into the reply box where the cursor is,
keeping what the agent typed, without leaving the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.notify.models import StandardText
from meldingen.organisations.models import Organisation
from meldingen.residents.models import Conversation, ConversationMessage, Reporter
from meldingen.timeutil import utcnow
from tests.factories import make_report
from tests.test_staff_browser import CHROMIUM, live_server, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.processes]
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield instance
        instance.close()


def test_hotspot_counts_show_without_hovering_and_select_all_ticks_the_rows(app, live_server, browser,
                                                                            make_staff):
    for lat in (52.38200, 52.38290):  # one ~200 m cell, far enough apart not to be one problem
        make_report("Losse stoeptegel", point=(lat, 4.89000))
        make_report("Lamp brandt niet", category="straatverlichting-openbare-klok", point=(lat, 4.89080))
    head, _ = make_staff("head", "GM0363")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, live_server, head.email)
    page.goto(f"{live_server}/staff/backlog")
    label = page.locator(".leaflet-tooltip.hotspot-count").first
    label.wait_for(state="visible")
    assert label.inner_text().strip() == "4"
    page.goto(f"{live_server}/staff/backlog?category=straatverlichting-openbare-klok")
    page.locator(".leaflet-tooltip.hotspot-count").first.wait_for(state="visible")
    assert page.locator(".leaflet-tooltip.hotspot-count").first.inner_text().strip() == "2"

    boxes = page.locator("#bulk-form input[name=reference]")
    assert boxes.count() == 2 and not any(boxes.nth(i).is_checked() for i in range(2))
    page.check("#select-all")
    assert all(boxes.nth(i).is_checked() for i in range(2))
    page.close()


def test_a_reply_text_goes_in_at_the_cursor_and_keeps_what_was_typed(app, live_server, browser, make_staff):
    org = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    db.session.add(StandardText(purpose="inbox", organisation_id=org.id, title="Foto?",
                                body="Kunt u een foto sturen?", position=0, active=True))
    reporter = Reporter(channel_kind="telegram", platform_id="5151", display_name="Els")
    db.session.add(reporter)
    db.session.flush()
    conversation = Conversation(reporter_id=reporter.id, channel_kind="telegram", needs_person=True,
                                needs_person_reason="de melder vraagt om een medewerker",
                                needs_person_since=utcnow() - timedelta(minutes=1), organisation_id=org.id,
                                draft={})
    db.session.add(conversation)
    db.session.flush()
    db.session.add(ConversationMessage(conversation_id=conversation.id, direction="in", at=utcnow(), kind="text",
                                       text="Er ligt een tak op de weg"))
    db.session.commit()
    agent, _ = make_staff("agent", "GM0363")
    page = browser.new_page()
    sign_in(page, live_server, agent.email)
    page.goto(f"{live_server}/staff/inbox/{conversation.id}")
    page.click("#claim")
    page.fill("#reply-body", "Dank u. Groet, Els")
    # The cursor after "Dank u.": the text goes in there, not at the end and not over what was typed.
    page.eval_on_selector("#reply-body", "b => { b.focus(); b.setSelectionRange(7, 7); }")
    url = page.url
    page.click("a.reply-text")  # takes the focus from the box; the box keeps its cursor
    assert page.url == url
    assert page.input_value("#reply-body") == "Dank u. Kunt u een foto sturen? Groet, Els"
    page.close()
