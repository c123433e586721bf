"""The shared inbox: newest waiting first, one agent holds a conversation at a time, replies go to the resident's
own channel and are refused when someone else holds it or the resident wrote again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.organisations.models import Organisation
from meldingen.residents.models import Conversation, ConversationMessage, Reporter
from meldingen.timeutil import utcnow

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"


def sign_in(client, user):
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def waiting_conversation(text="Ik wil iemand spreken over mijn melding", organisation="GM0363", minutes_ago=5,
                         platform_id=None):
    org = db.session.query(Organisation).filter_by(code=organisation).one()
    reporter = Reporter(channel_kind="webchat", platform_id=platform_id or f"tg-{text[:8]}-{minutes_ago}",
                        display_name="Bewoner")
    db.session.add(reporter)
    db.session.flush()
    since = utcnow() - timedelta(minutes=minutes_ago)
    conversation = Conversation(reporter_id=reporter.id, channel_kind="webchat", needs_person=True,
                                needs_person_reason="De melder vraagt om een medewerker", needs_person_since=since,
                                organisation_id=org.id, draft={})
    db.session.add(conversation)
    db.session.flush()
    db.session.add(ConversationMessage(conversation_id=conversation.id, direction="in", at=since, text=text))
    db.session.commit()
    return conversation


def last_seen(conversation) -> int:
    return max(m.id for m in conversation.messages)


@pytest.fixture
def agents(app, make_staff):
    result = []
    for _ in range(2):
        client = app.test_client()
        user, _ = make_staff("agent", "DSP")
        sign_in(client, user)
        result.append((client, user))
    return result


def test_inbox_lists_conversations_needing_a_person_newest_waiting_first(agents):
    older = waiting_conversation("Oudere vraag", minutes_ago=30)
    newer = waiting_conversation("Nieuwere vraag", minutes_ago=1)
    done = waiting_conversation("Al geholpen", minutes_ago=2)
    done.needs_person = False
    db.session.commit()
    page = agents[0][0].get("/staff/inbox").get_data(as_text=True)
    assert page.index("Nieuwere vraag") < page.index("Oudere vraag")
    assert "Al geholpen" not in page
    assert older and newer


def test_only_one_of_two_agents_gets_the_claim_and_the_other_sees_who_holds_it(agents):
    conversation = waiting_conversation()
    (first, first_user), (second, _second_user) = agents
    assert first.post(f"/staff/inbox/{conversation.id}/claim").status_code == 303
    assert second.post(f"/staff/inbox/{conversation.id}/claim").status_code == 303
    db.session.expire_all()
    assert conversation.claimed_by_id == first_user.id
    page = second.get(f"/staff/inbox/{conversation.id}").get_data(as_text=True)
    assert f"In behandeling bij {first_user.name}" in page
    assert 'id="claim"' not in page
    assert "al in behandeling bij" in second.get("/staff/inbox").get_data(as_text=True) or \
        "in behandeling bij" in second.get("/staff/inbox").get_data(as_text=True)


def test_claim_is_a_conditional_update(app, make_staff):
    from meldingen.staff.inbox import claim_conversation

    conversation = waiting_conversation()
    one, _ = make_staff("agent", "DSP")
    two, _ = make_staff("agent", "DSP")
    assert claim_conversation(conversation.id, one) is True
    assert claim_conversation(conversation.id, two) is False
    assert claim_conversation(conversation.id, one) is True  # re-claiming your own keeps it


def test_a_claim_lapses_after_inactivity(app, make_staff):
    from meldingen.staff.inbox import claim_conversation, release_expired_claims

    conversation = waiting_conversation()
    one, _ = make_staff("agent", "DSP")
    two, _ = make_staff("agent", "DSP")
    assert claim_conversation(conversation.id, one)
    later = utcnow() + timedelta(seconds=app.config.get("INBOX_CLAIM_SECONDS", 600) + 1)
    assert claim_conversation(conversation.id, two, now=later) is True
    db.session.expire_all()
    assert conversation.claimed_by_id == two.id
    assert release_expired_claims(now=later + timedelta(hours=1)) == 1


@pytest.mark.parametrize("app_config", [{"INBOX_CLAIM_SECONDS": 60}])
def test_claim_timeout_is_configurable(app, make_staff):
    from meldingen.staff.inbox import claim_conversation

    conversation = waiting_conversation()
    one, _ = make_staff("agent", "DSP")
    two, _ = make_staff("agent", "DSP")
    claim_conversation(conversation.id, one)
    assert claim_conversation(conversation.id, two, now=utcnow() + timedelta(seconds=61)) is True


def test_reply_goes_to_the_resident_on_their_own_channel(agents):
    conversation = waiting_conversation()
    client, user = agents[0]
    client.post(f"/staff/inbox/{conversation.id}/claim")
    response = client.post(f"/staff/inbox/{conversation.id}/reply",
                           data={"body": "Wij kijken ernaar, dank u!", "last_message_id": last_seen(conversation)})
    assert response.status_code == 303
    [outbound] = db.session.query(OutboundMessage).filter_by(reporter_id=conversation.reporter_id).all()
    assert outbound.body == "Wij kijken ernaar, dank u!" and outbound.channel_kind == "webchat"
    db.session.expire_all()
    reply = conversation.messages[-1]
    assert (reply.direction, reply.staff_id, reply.outbound_message_id) == ("out", user.id, outbound.id)


def test_reply_is_refused_when_another_agent_holds_the_conversation(agents):
    conversation = waiting_conversation()
    (first, _), (second, _) = agents
    first.post(f"/staff/inbox/{conversation.id}/claim")
    response = second.post(f"/staff/inbox/{conversation.id}/reply",
                           data={"body": "Dubbel antwoord", "last_message_id": last_seen(conversation)})
    assert response.status_code == 409
    assert "Een collega heeft dit gesprek in behandeling" in response.get_data(as_text=True)
    assert db.session.query(OutboundMessage).count() == 0


def test_reply_is_refused_when_the_resident_wrote_since_the_agent_opened_it(agents):
    conversation = waiting_conversation()
    client, _ = agents[0]
    client.post(f"/staff/inbox/{conversation.id}/claim")
    seen = last_seen(conversation)
    db.session.add(ConversationMessage(conversation_id=conversation.id, direction="in", text="Oh, en nog iets!"))
    db.session.commit()
    response = client.post(f"/staff/inbox/{conversation.id}/reply", data={"body": "Mijn concept", "last_message_id": seen})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "nieuwe berichten" in page and "Oh, en nog iets!" in page and "Mijn concept" in page  # draft kept
    assert db.session.query(OutboundMessage).count() == 0


def test_resolving_ends_the_wait_and_the_claim(agents):
    conversation = waiting_conversation()
    client, _ = agents[0]
    client.post(f"/staff/inbox/{conversation.id}/claim")
    client.post(f"/staff/inbox/{conversation.id}/reply",
                data={"body": "Opgelost", "last_message_id": last_seen(conversation), "resolved": "1"})
    db.session.expire_all()
    assert conversation.needs_person is False and conversation.claimed_by_id is None


def test_release_lets_a_colleague_take_over(agents):
    conversation = waiting_conversation()
    (first, _), (second, second_user) = agents
    first.post(f"/staff/inbox/{conversation.id}/claim")
    first.post(f"/staff/inbox/{conversation.id}/release")
    second.post(f"/staff/inbox/{conversation.id}/claim")
    db.session.expire_all()
    assert conversation.claimed_by_id == second_user.id


def test_agents_see_only_their_organisations_conversations(app, make_staff):
    emmen = waiting_conversation("Vraag uit Emmen", organisation="GM0114")
    client = app.test_client()
    sign_in(client, make_staff("agent", "GM0363")[0])
    assert "Vraag uit Emmen" not in client.get("/staff/inbox").get_data(as_text=True)
    assert client.get(f"/staff/inbox/{emmen.id}").status_code == 404
    assert client.post(f"/staff/inbox/{emmen.id}/claim").status_code == 404


def test_residents_html_in_the_inbox_is_shown_as_text(agents):
    conversation = waiting_conversation('<img src=x onerror="alert(1)">')
    page = agents[0][0].get(f"/staff/inbox/{conversation.id}").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x" in page
