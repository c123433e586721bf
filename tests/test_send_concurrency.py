"""Per-platform concurrency: a platform whose sends hang keeps at most NOTIFY_CONCURRENCY workers waiting;
the other platforms' residents are answered meanwhile, and the held message goes out once a slot is free."""

from __future__ import annotations

import time

import pytest
from fake_chat_platform import RESIDENTS, USERS, install_send_routes, platform_config, sent_messages
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.jobs.slots import LocalSlots, RedisSlots, slot
from meldingen.notify.models import OutboundMessage
from meldingen.notify.tasks import SLOT_WAIT_SECONDS, send_due_messages
from meldingen.timeutil import utcnow


def test_local_slots_hold_the_limit_and_free_on_release_and_on_expiry():
    slots = LocalSlots()
    first, second = slots.acquire("k", 2, 60), slots.acquire("k", 2, 60)
    assert first and second and first != second
    assert slots.acquire("k", 2, 60) is None
    assert slots.acquire("other", 2, 60)  # keys are separate
    slots.release("k", first)
    assert slots.in_use("k") == 1
    third = slots.acquire("k", 2, 0.05)
    assert third and slots.acquire("k", 2, 60) is None
    time.sleep(0.1)  # a holder that died: its lease runs out
    assert slots.acquire("k", 2, 60)


def test_slot_context_frees_its_slot_even_when_the_work_raises():
    slots = LocalSlots()
    with pytest.raises(RuntimeError):
        with slot(slots, "k", 1, 60) as free:
            assert free
            raise RuntimeError("platform answered nonsense")
    with slot(slots, "k", 1, 60) as free:
        assert free
        with slot(slots, "k", 1, 60) as again:
            assert again is False
    with slot(slots, "k", None, 60) as unlimited:
        assert unlimited is True


def test_redis_slots_are_shared_by_every_worker_that_uses_the_broker(real_redis_url):
    from redis import Redis

    one, two = Redis.from_url(real_redis_url), Redis.from_url(real_redis_url)  # two worker processes' connections
    a, b = RedisSlots(one), RedisSlots(two)
    held = [a.acquire("send:whatsapp:1", 2, 60), b.acquire("send:whatsapp:1", 2, 60)]
    assert all(held)
    assert a.acquire("send:whatsapp:1", 2, 60) is None and b.acquire("send:whatsapp:1", 2, 60) is None
    assert b.acquire("send:telegram:2", 2, 60)
    b.release("send:whatsapp:1", held[0])  # any worker may free a slot it knows the token of
    assert a.in_use("send:whatsapp:1") == 1
    short = a.acquire("send:whatsapp:1", 2, 0.05)
    assert short and b.acquire("send:whatsapp:1", 2, 60) is None
    time.sleep(0.1)
    assert b.acquire("send:whatsapp:1", 2, 60)
    one.close()
    two.close()


@pytest.fixture
def fake(fake):
    install_send_routes(fake)
    return fake


@pytest.fixture
def app_config(fake):
    return {**platform_config(fake), "NOTIFY_CONCURRENCY": {"whatsapp": 2, "telegram": 2}}


def test_a_platform_with_every_slot_in_use_waits_while_another_platform_is_answered(app, client, fake):
    slots = app.extensions["meldingen_jobs"].slots
    # The default channels (configured, not rows in the database) have channel id 0 in the key.
    # Two sends to WhatsApp are in flight (hanging) somewhere in the deployment: every WhatsApp slot is taken.
    held = [slots.acquire("send:whatsapp:0", 2, 60) for _ in range(2)]
    wa = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    tg = RESIDENTS["telegram"](client, fake, USERS["telegram"][0])
    wa.send_text("hallo")
    tg.send_text("hallo")

    sent = sent_messages(fake)
    assert [m["kind"] for m in sent] == ["telegram"]  # the other platform's resident is answered at once
    waiting = db.session.scalar(select(OutboundMessage).where(OutboundMessage.channel_kind == "whatsapp",
                                                              OutboundMessage.template_key != "read_receipt"))
    if waiting is None or waiting.state == "sent":
        pytest.fail("the WhatsApp reply went out although every WhatsApp slot was taken")
    assert waiting.state == "queued" and waiting.attempts == 0  # not claimed, not counted as a failed try
    delayed = [d for d, name, kw in app.extensions["meldingen_jobs_delayed"]
               if name == "notify.send" and kw == {"message_id": waiting.id}]
    assert delayed and set(delayed) == {SLOT_WAIT_SECONDS}  # it comes back shortly, not after a backoff

    for token in held:  # the hanging sends end
        slots.release("send:whatsapp:0", token)
    send_due_messages(now=utcnow())
    db.session.refresh(waiting)
    assert waiting.state == "sent" and waiting.attempts == 1
    assert sorted(m["kind"] for m in sent_messages(fake)) == ["telegram", "whatsapp"]
    assert slots.in_use("send:whatsapp:0") == 0  # the send gave its slot back
