"""Agents: a place a resident shared is shown as an address (the geo lookup's nearest BAG address), not only as
coordinates; reply texts for the inbox are kept like the standard texts and put into the reply box."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.notify.models import StandardText
from meldingen.notify.standard_texts import StandardTextRefused, save_standard_text, texts_for_inbox, texts_for_report
from meldingen.organisations.models import Organisation
from meldingen.residents.models import Conversation, ConversationMessage, Reporter
from meldingen.timeutil import utcnow
from tests.factories import make_report

pytestmark = pytest.mark.rolled_back

PASSWORD = "correct horse battery"
WESTERDOKSDIJK_40A = (52.3877, 4.8926)  # the sample BAG address the factories use


def conversation_with(*locations):
    org = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    reporter = Reporter(channel_kind="telegram", platform_id="4242", display_name="Els")
    db.session.add(reporter)
    db.session.flush()
    conversation = Conversation(reporter_id=reporter.id, channel_kind="telegram", needs_person=True,
                                needs_person_reason="De melder vraagt om een medewerker",
                                needs_person_since=utcnow() - timedelta(minutes=2), organisation_id=org.id, draft={})
    db.session.add(conversation)
    db.session.flush()
    for lat, lon in locations:
        db.session.add(ConversationMessage(conversation_id=conversation.id, direction="in", at=utcnow(),
                                           kind="location", data={"location": {"lat": lat, "lon": lon}}))
    db.session.commit()
    return conversation


@pytest.fixture
def agent(app, make_staff):
    user, _ = make_staff("agent", "GM0363")
    client = app.test_client()
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_a_shared_place_is_shown_as_the_nearest_address(agent):
    report = make_report("Losse tegel", point=WESTERDOKSDIJK_40A)  # the address the lookup finds there
    assert report.address_street
    conversation = conversation_with(WESTERDOKSDIJK_40A, (52.6, 4.1))  # the second in the North Sea
    page = agent.get(f"/staff/inbox/{conversation.id}").get_data(as_text=True)
    expected = f"{report.address_street} {report.address_number}"
    assert f'<span class="place-name">{expected}' in page
    assert page.count('class="place-name"') == 1  # nowhere known: the coordinates alone
    assert "52.60000, 4.10000" in page

    # The messages that arrive while the page is open carry it too.
    polled = agent.get(f"/staff/inbox/{conversation.id}/messages?after=0").get_json()
    assert expected in polled["messages"][0]["html"]


def test_inbox_reply_texts_are_kept_apart_from_the_status_texts(app):
    org = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    mine = save_standard_text({"title": "Adres?", "body": "Op welk adres is het?", "purpose": "inbox",
                               "status": "done", "organisation_id": org.id}, organisation_ids=[org.id, None])
    assert (mine.purpose, mine.status, mine.category_id) == ("inbox", None, None)
    assert mine in texts_for_inbox(org.id) and texts_for_inbox(org.id).index(mine) == 0  # own ones first
    other = db.session.scalar(select(Organisation).where(Organisation.code == "GM0114"))
    assert mine not in texts_for_inbox(other.id)
    report = make_report("Losse tegel")
    assert mine not in texts_for_report(report)
    assert all(t.purpose == "report" for t in texts_for_report(report))
    with pytest.raises(StandardTextRefused):
        save_standard_text({"title": "x", "body": "y", "purpose": "sms", "organisation_id": None},
                           organisation_ids=[None])


def test_an_administrator_adds_an_inbox_text_and_an_agent_puts_it_in_the_reply(app, agent, make_staff):
    admin, _ = make_staff("admin", "GM0363")
    client = app.test_client()
    client.post("/staff/login", data={"email": admin.email, "password": PASSWORD})
    page = client.get("/staff/admin/standard-texts").get_data(as_text=True)
    assert '<option value="inbox"' in page and "antwoord in de inbox" in page
    assert client.post("/staff/admin/standard-texts", data={
        "organisation": "GM0363", "purpose": "inbox", "title": "Foto?", "body": "Kunt u een foto sturen?",
        "position": "0", "active": "1"}).status_code == 303
    text = db.session.scalar(select(StandardText).where(StandardText.title == "Foto?"))
    assert text.purpose == "inbox"

    conversation = conversation_with(WESTERDOKSDIJK_40A)
    agent.post(f"/staff/inbox/{conversation.id}/claim")
    page = agent.get(f"/staff/inbox/{conversation.id}").get_data(as_text=True)
    assert 'data-text="Kunt u een foto sturen?"' in page and ">Foto?</a>" in page
    # Without JavaScript the link opens the page with the text in the reply box.
    page = agent.get(f"/staff/inbox/{conversation.id}?tekst={text.id}").get_data(as_text=True)
    assert 'id="reply-body" rows="4" maxlength="4000" required>Kunt u een foto sturen?</textarea>' in page
    assert agent.get(f"/staff/inbox/{conversation.id}?tekst=99999999999999").status_code == 200
