"""Report events pushed to subscribed systems: Standard Webhooks signatures, at least once, retried with backoff,
parked and shown to administrators after the last try, and never more than the organisation may see.

The subscriber is a real HTTP server on loopback (tests/fake_platforms.py), stopped and started again where a test
needs it to be away."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from meldingen.extensions import db
from meldingen.reports.services import change_status
from meldingen.subscriptions import signing
from meldingen.subscriptions.models import WebhookDelivery, WebhookSubscription
from meldingen.subscriptions.services import subscribe
from meldingen.subscriptions.tasks import deliver_due_events
from meldingen.timeutil import utcnow
from tests.factories import AMSTERDAM, EMMEN, make_report
from tests.fake_platforms import FakePlatform

pytestmark = pytest.mark.usefixtures("app")  # each test on a database of its own: deliveries run in other sessions

PASSWORD = "correct horse battery"
RETRIES = [10, 60, 300]


@pytest.fixture
def app_config(request):
    """Loopback subscribers allowed (as in tests and development), short waits; `indirect` parameters replace it."""
    return getattr(request, "param", None) or {
        "WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_RETRY_SECONDS": RETRIES, "WEBHOOK_MAX_ATTEMPTS": 4,
        "WEBHOOK_TIMEOUT": 10.0}


class Receiver:
    """A subscriber on loopback that can be stopped and started again on the same port. `answers` are the
    statuses it gives, in turn (the last one repeats); `hang` seconds it waits first."""

    def __init__(self):
        self.fake = FakePlatform()
        self.answers = [200]
        self.hang = 0.0
        self.fake.route("POST", "/hook")(self._answer)
        self.server = None
        self.thread = None
        self.start()

    def _answer(self, request):
        if self.hang:
            time.sleep(self.hang)
        status = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return Response("ok" if status < 300 else "nee", status=status)

    def start(self):
        self.server = make_server("127.0.0.1", self.fake.port, self.fake, threaded=True)
        self.fake.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    @property
    def url(self) -> str:
        return f"{self.fake.url}/hook"

    @property
    def received(self):
        return [s for s in self.fake.requests_to("/hook") if s.method == "POST"]

    def bodies(self) -> list[dict]:
        return [json.loads(s.body) for s in self.received]


@pytest.fixture
def receiver():
    subscriber = Receiver()
    yield subscriber
    subscriber.stop()


def subscribed(url: str, organisation: str = "GM0363", events=None) -> tuple[WebhookSubscription, str]:
    subscription, secret = subscribe(organisation, url, events)
    db.session.commit()
    return subscription, secret


def deliveries(state: str | None = None) -> int:
    query = select(func.count()).select_from(WebhookDelivery)
    if state is not None:
        query = query.where(WebhookDelivery.state == state)
    return db.session.scalar(query)


def sweep_after(seconds: float) -> dict:
    return deliver_due_events(now=utcnow() + timedelta(seconds=seconds))


def test_the_signature_is_the_one_of_the_standard_webhooks_example():
    """The example of the Standard Webhooks / Svix documentation, signed by our code."""
    assert signing.sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                        '{"test": 2432232314}') == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


# --- the command line -----------------------------------------------------------------------------------------

def test_subscriptions_add_list_remove_on_the_command_line(runner, receiver):
    added = runner.invoke(args=["subscriptions", "add", "--organisation", "GM0363", "--url", receiver.url,
                                "--events", "report.created,report.merged"])
    assert added.exit_code == 0, added.output
    lines = dict(line.split(" ", 1) for line in added.output.strip().splitlines())
    assert lines["secret"].startswith("whsec_") and len(signing._key(lines["secret"])) == 32
    listed = runner.invoke(args=["subscriptions", "list"])
    row = next(line for line in listed.output.splitlines() if line.startswith(lines["subscription"] + "\t"))
    assert "GM0363" in row and receiver.url in row and "report.created,report.merged" in row
    assert lines["secret"] not in listed.output
    removed = runner.invoke(args=["subscriptions", "remove", lines["subscription"]])
    assert removed.exit_code == 0
    assert lines["subscription"] + "\t" not in runner.invoke(args=["subscriptions", "list"]).output


@pytest.mark.parametrize("args, reason", [
    (["--organisation", "GM9999"], "no organisation"),
    (["--events", "report.deleted"], "unknown event"),
])
def test_subscriptions_add_refuses_what_it_cannot_keep(runner, receiver, args, reason):
    options = {"--organisation": "GM0363", "--url": receiver.url}
    options.update(dict(zip(args[::2], args[1::2])))
    result = runner.invoke(args=["subscriptions", "add", *[x for pair in options.items() for x in pair]])
    assert result.exit_code != 0 and reason in result.output


@pytest.mark.parametrize("app_config", [{"WEBHOOK_ALLOW_PRIVATE": False}], indirect=True)
@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook",
                                 "https://localhost/hook", "ftp://example.org/x"])
def test_outside_tests_and_development_no_loopback_private_or_plain_http_url_is_subscribed(runner, url):
    result = runner.invoke(args=["subscriptions", "add", "--organisation", "GM0363", "--url", url])
    assert result.exit_code != 0 and "cannot receive events" in result.output
    assert db.session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


# --- what is sent ---------------------------------------------------------------------------------------------

def test_a_new_report_is_pushed_signed_as_standard_webhooks_says(client, auth, make_staff, receiver):
    _, secret = subscribed(receiver.url)
    _, token = make_staff("agent", "DSP")
    created = client.post("/api/v1/reports", headers=auth(token), json={
        "description": "Losse stoeptegel", "location": {"lat": AMSTERDAM[0], "lon": AMSTERDAM[1]},
        "category": "onderhoud-stoep-straat-en-fietspad"})
    assert created.status_code == 201
    [seen] = receiver.received
    headers = {k.lower(): v for k, v in seen.headers.items()}
    assert headers["webhook-id"].startswith("msg_")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 3600
    assert headers["webhook-signature"].startswith("v1,")
    body = seen.body.decode()
    assert signing.verify(secret, headers["webhook-id"], headers["webhook-timestamp"], body,
                          headers["webhook-signature"])
    assert not signing.verify(secret, headers["webhook-id"], headers["webhook-timestamp"], body + " ",
                              headers["webhook-signature"])
    event = json.loads(body)
    assert event["type"] == "report.created"
    assert event["data"]["report"]["reference"] == created.json["reference"]
    assert event["data"]["report"]["status"] == "new"
    assert event["timestamp"]
    assert deliveries("delivered") == 1


def test_a_status_change_is_pushed_without_the_internal_note(client, auth, make_staff, receiver):
    report = make_report()
    _, secret = subscribed(receiver.url, events=["report.status_changed"])
    _, token = make_staff("head", "GM0363")
    note = "INTERN: bel de buurman 06-12345678"
    response = client.post(f"/api/v1/reports/{report.reference}/status", headers=auth(token),
                           json={"status": "in_progress", "note": note, "resident_message": "We gaan aan de slag"})
    assert response.status_code == 200
    [event] = receiver.bodies()
    assert event["type"] == "report.status_changed"
    assert event["data"]["report"]["status"] == "in_progress" and event["data"]["previous_status"] == "new"
    text = receiver.received[0].body.decode()
    assert "INTERN" not in text and "06-12345678" not in text
    assert all("note" not in entry for entry in event["data"]["report"]["history"])
    assert "We gaan aan de slag" in text  # what residents were sent is not internal


def test_a_category_change_and_a_merge_are_pushed(client, auth, make_staff, receiver):
    first = make_report("Losse stoeptegel voor nummer 40")
    second = make_report("Stoeptegel los, voor nummer 40", point=(AMSTERDAM[0], AMSTERDAM[1] + 0.0015))
    subscribed(receiver.url, events=["report.category_changed", "report.merged"])
    _, token = make_staff("head", "GM0363")
    assert client.post(f"/api/v1/reports/{second.reference}/category", headers=auth(token),
                       json={"category": "straatverlichting-openbare-klok"}).status_code == 200
    from meldingen.dedup.services import merge_reports

    merge_reports(second, first, actor="test")
    db.session.commit()
    events = receiver.bodies()
    assert [e["type"] for e in events] == ["report.category_changed", "report.merged"]
    assert events[0]["data"]["previous_category"] == "onderhoud-stoep-straat-en-fietspad"
    assert events[0]["data"]["report"]["category"]["sub_slug"] == "straatverlichting-openbare-klok"
    assert events[1]["data"]["report"]["reference"] == first.reference
    assert events[1]["data"]["duplicate"] == second.reference
    assert second.reference in events[1]["data"]["report"]["duplicates"]


def test_a_report_merged_while_it_is_made_gives_created_and_merged_not_a_status_change(receiver):
    known = make_report("Losse stoeptegel voor de deur")
    subscribed(receiver.url)
    again = make_report("Losse stoeptegel voor de deur")
    assert again.duplicate_of_id == known.id, "the sample's rules merge the same tile"
    types = sorted((e["type"], e["data"]["report"]["reference"]) for e in receiver.bodies())
    assert types == sorted([("report.created", again.reference), ("report.merged", known.reference)])


def test_a_subscription_sees_only_its_own_organisations_reports(receiver):
    emmen_hook = Receiver()
    try:
        subscribed(receiver.url, organisation="GM0363")
        subscribed(emmen_hook.url, organisation="GM0114")
        service_point_hook, _ = subscribed(receiver.url + "?dsp", organisation="DSP")
        amsterdam = make_report()
        emmen = make_report("Lamp kapot", point=EMMEN, category="straatverlichting-openbare-klok")
        to_amsterdam = [(s.query, json.loads(s.body)["data"]["report"]["reference"]) for s in receiver.received]
        assert sorted(to_amsterdam) == sorted([("", amsterdam.reference), ("dsp", amsterdam.reference),
                                               ("dsp", emmen.reference)])
        assert [e["data"]["report"]["reference"] for e in emmen_hook.bodies()] == [emmen.reference]
        assert service_point_hook.id
    finally:
        emmen_hook.stop()


def test_no_event_carries_a_residents_identifiers(app, receiver):
    from meldingen.residents.models import Reporter

    resident = Reporter(channel_kind="telegram", platform_id="987654321", display_name="Jan Jansen", language="nl")
    db.session.add(resident)
    db.session.commit()
    subscribed(receiver.url)
    make_report("Losse stoeptegel", reporter_id=resident.id)
    [body] = [s.body.decode() for s in receiver.received]
    assert "987654321" not in body and "Jan Jansen" not in body


# --- at least once --------------------------------------------------------------------------------------------

def test_a_500_is_retried_with_backoff_under_the_same_webhook_id(receiver):
    receiver.answers = [500, 503, 200]
    _, secret = subscribed(receiver.url)
    make_report()
    row = db.session.scalars(select(WebhookDelivery)).one()
    assert (row.state, row.attempts, row.last_error) == ("queued", 1, "HTTP 500")
    assert sweep_after(RETRIES[0] - 5) == {}, "not before its wait is over"
    assert sweep_after(RETRIES[0] + 1) == {"queued": 1}
    db.session.refresh(row)
    assert row.next_attempt_at - row.last_attempt_at == timedelta(seconds=RETRIES[1]), "the wait grows"
    assert sweep_after(RETRIES[0] + RETRIES[1] + 2) == {"delivered": 1}
    ids = {s.headers["Webhook-Id"] for s in receiver.received}
    assert len(receiver.received) == 3 and ids == {row.message_id}
    for seen in receiver.received:
        assert signing.verify(secret, seen.headers["Webhook-Id"], seen.headers["Webhook-Timestamp"],
                              seen.body.decode(), seen.headers["Webhook-Signature"])


def test_a_subscriber_that_does_not_answer_in_time_is_tried_again(app, receiver):
    app.config["WEBHOOK_TIMEOUT"] = 0.2
    receiver.hang = 2.0  # well beyond the timeout
    subscribed(receiver.url)
    make_report()
    row = db.session.scalars(select(WebhookDelivery)).one()
    assert row.state == "queued" and "Timeout" in row.last_error
    receiver.hang, app.config["WEBHOOK_TIMEOUT"] = 0.0, 10.0
    assert sweep_after(RETRIES[0] + 1) == {"delivered": 1}


def test_after_the_last_try_a_delivery_is_parked_shown_to_administrators_and_can_be_retried(client, make_staff,
                                                                                            receiver):
    receiver.answers = [500]
    subscription, _ = subscribed(receiver.url)
    make_report()
    elapsed = 0
    for wait in [*RETRIES, RETRIES[-1]]:
        elapsed += wait + 1
        sweep_after(elapsed)
    row = db.session.scalars(select(WebhookDelivery)).one()
    assert (row.state, row.attempts) == ("parked", 4)
    assert sweep_after(elapsed + 100_000) == {}, "parked: no more tries by itself"
    assert len(receiver.received) == 4

    admin, _ = make_staff("admin", "GM0363")
    assert client.post("/staff/login", data={"email": admin.email, "password": PASSWORD}).status_code == 302
    page = client.get("/staff/admin/subscriptions").get_data(as_text=True)
    assert receiver.url in page and row.message_id in page and "HTTP 500" in page
    receiver.answers = [200]
    assert client.post(f"/staff/admin/subscriptions/deliveries/{row.id}/retry").status_code == 303
    db.session.refresh(row)
    assert row.state == "delivered" and len(receiver.received) == 5
    assert {s.headers["Webhook-Id"] for s in receiver.received} == {row.message_id}
    assert subscription.id


def test_an_administrator_of_another_organisation_neither_sees_nor_retries_it(client, make_staff, receiver):
    receiver.answers = [500]
    subscribed(receiver.url)
    make_report()
    row = db.session.scalars(select(WebhookDelivery)).one()
    row.state = "parked"
    db.session.commit()
    admin, _ = make_staff("admin", "GM0114")
    client.post("/staff/login", data={"email": admin.email, "password": PASSWORD})
    assert receiver.url not in client.get("/staff/admin/subscriptions").get_data(as_text=True)
    assert client.post(f"/staff/admin/subscriptions/deliveries/{row.id}/retry").status_code == 404


def test_an_administrator_subscribes_on_the_page_and_sees_the_secret_once(client, make_staff, receiver):
    admin, _ = make_staff("admin", "GM0363")
    client.post("/staff/login", data={"email": admin.email, "password": PASSWORD})
    made = client.post("/staff/admin/subscriptions", data={"organisation": "GM0363", "url": receiver.url,
                                                           "events": ["report.created"]})
    assert made.status_code == 201
    secret = made.get_data(as_text=True).split('<code class="secret">')[1].split("<")[0]
    assert secret.startswith("whsec_")
    assert secret not in client.get("/staff/admin/subscriptions").get_data(as_text=True)
    subscription = db.session.scalars(select(WebhookSubscription)).one()
    assert subscription.events == ["report.created"] and subscription.secret == secret


def test_a_url_that_turns_private_is_parked_at_once_with_the_reason(app, receiver):
    subscribed(receiver.url)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    make_report()
    row = db.session.scalars(select(WebhookDelivery)).one()
    assert row.state == "parked" and "URL refused" in row.last_error
    assert receiver.received == []


def test_a_subscriber_away_for_a_while_gets_every_event_at_least_once_when_it_is_back(receiver):
    """The receiver is killed mid-run and started again: nothing is lost. Prints the figures of the run."""
    _, secret = subscribed(receiver.url)
    reports = [make_report(f"Stoeptegel {i}", point=(AMSTERDAM[0], AMSTERDAM[1] + i * 0.0015)) for i in range(4)]
    receiver.stop()  # killed mid-run
    for report in reports[:3]:
        change_status(report, "in_progress", actor="test")
        db.session.commit()
    reports += [make_report(f"Stoeptegel {i}", point=(AMSTERDAM[0], AMSTERDAM[1] + i * 0.0015))
                for i in range(4, 6)]
    assert deliveries("queued") == 5
    sweep_after(RETRIES[0] + 1)  # still away: the first retry fails too
    receiver.start()
    sweep_after(RETRIES[0] + RETRIES[1] + 2)
    events = deliveries()
    assert deliveries("delivered") == events == 4 + 3 + 2
    got = {s.headers["Webhook-Id"] for s in receiver.received}
    sent_ids = set(db.session.scalars(select(WebhookDelivery.message_id)))
    assert got == sent_ids, "every event arrived at least once"
    for seen in receiver.received:
        assert signing.verify(secret, seen.headers["Webhook-Id"], seen.headers["Webhook-Timestamp"],
                              seen.body.decode(), seen.headers["Webhook-Signature"])
    attempts = db.session.scalar(select(func.sum(WebhookDelivery.attempts)))
    print(f"\nwebhook run: events={events} attempts={attempts} retried={attempts - events} "
          f"received={len(receiver.received)} unique_received={len(got)} delivered={deliveries('delivered')}")


def test_an_event_made_outside_a_request_links_its_photos_by_the_public_url(app, receiver):
    from meldingen.media.services import store_photo
    from tests.fake_platforms import jpeg_bytes

    app.config["PUBLIC_URL"] = "https://meldingen.example.nl"
    subscribed(receiver.url)
    photo = store_photo(jpeg_bytes(), source="telegram")
    db.session.commit()
    make_report(photo_ids=[photo.id])  # as the chat intake makes one, in a background job
    [event] = receiver.bodies()
    [shown] = event["data"]["report"]["photos"]
    assert shown["url"] == f"https://meldingen.example.nl/media/photos/{photo.token}"
    assert shown["thumbnail_url"].startswith(shown["url"]) and "thumbnail=1" in shown["thumbnail_url"]


def test_a_send_whose_worker_died_before_it_wrote_the_outcome_is_sent_again_under_the_same_id(receiver):
    from meldingen.subscriptions import delivery

    subscription, _ = subscribed(receiver.url)
    receiver.stop()
    make_report()  # the first attempt finds nobody: queued for a retry
    receiver.start()
    row = db.session.scalars(select(WebhookDelivery)).one()
    claimed_at = utcnow() + timedelta(seconds=RETRIES[0] + 1)
    assert delivery.claim(row.id, claimed_at) is not None
    db.session.commit()
    delivery.post(subscription.url, subscription.secret, row.message_id, row.body, utcnow())  # then the worker dies
    assert sweep_after(RETRIES[0] + 2) == {}, "a send in flight is not taken over before its lease ends"
    assert deliver_due_events(now=claimed_at + delivery.lease() + timedelta(seconds=1)) == {"delivered": 1}
    ids = [s.headers["Webhook-Id"] for s in receiver.received]
    assert ids == [row.message_id, row.message_id], "at least once: the receiver drops the repeat by its id"
