"""The public front page at /: 200 in Dutch with landmarks and headings, the website chat and staff sign-in
links, each chat platform that is switched on by its public name and none that is off, and no secret, platform
address, number or resident data anywhere on it."""

from __future__ import annotations

import re

import pytest

from meldingen.channels.models import Channel
from meldingen.extensions import db
from tests.factories import make_report

SECRETS = {
    "WHATSAPP_APP_SECRET": "wa-app-secret-123", "WHATSAPP_VERIFY_TOKEN": "wa-verify-456",
    "WHATSAPP_ACCESS_TOKEN": "wa-access-789", "WHATSAPP_PHONE_NUMBER_ID": "109876543210",
    "TELEGRAM_BOT_TOKEN": "7654321:tg-bot-secret", "TELEGRAM_SECRET_TOKEN": "tg-secret-token",
    # Twilio (sms), Messenger and Signal stay off
    "TWILIO_AUTH_TOKEN": "", "MESSENGER_APP_SECRET": "", "MESSENGER_VERIFY_TOKEN": "", "SIGNAL_NUMBER": "",
}


@pytest.fixture
def app_config():
    return dict(SECRETS)


def channel_names(page: str) -> set[str]:
    return set(re.findall(r'data-channel="([^"]+)"', page))


def test_the_front_page_tells_how_to_report_and_where_staff_sign_in(app, client):
    from meldingen.residents.models import Reporter

    reporter = Reporter(channel_kind="whatsapp", platform_id="31612345678", display_name="Fatima el Amrani")
    db.session.add(reporter)
    db.session.commit()
    report = make_report("Losse stoeptegel bij nummer 12, bel mij op 0612345678", reporter_id=reporter.id)

    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "<main" in page and "<header" in page and "<footer" in page and page.count("<h1") == 1
    assert 'href="/chat"' in page and 'href="/staff/login"' in page
    assert channel_names(page) == {"WhatsApp", "Telegram"}  # switched on; sms, Messenger, Signal are off
    for absent in ("sms", "Messenger", "Signal"):
        assert f">{absent}<" not in page
    for secret in [*(v for v in SECRETS.values() if v), "7654321"]:
        assert secret not in page
    for resident_data in ("31612345678", "Fatima", "0612345678", report.reference, "stoeptegel bij nummer"):
        assert resident_data not in page
    css = client.get("/static/web/front.css")
    assert css.status_code == 200
    css.close()


def test_a_stored_channel_switches_its_platform_on_with_only_its_public_contact(app, client):
    db.session.add_all([
        Channel(kind="twilio", name="sms-lijn", address="+3197010203040", active=True,
                secrets={"auth_token": "tw-secret"}, settings={"public_contact": "sms naar 97010203040"}),
        Channel(kind="signal", name="signal-oud", address="+31600000000", active=False, secrets={}, settings={}),
    ])
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert channel_names(page) == {"WhatsApp", "Telegram", "sms"}  # the inactive Signal channel stays off
    assert "sms naar 97010203040" in page  # the contact the organisation made public
    assert "+3197010203040" not in page and "tw-secret" not in page and "+31600000000" not in page


def test_with_no_chat_app_configured_only_the_website_chat_is_offered(app, client):
    for key in ("WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "TELEGRAM_BOT_TOKEN"):
        app.config[key] = ""
    page = client.get("/").get_data(as_text=True)
    assert channel_names(page) == set() and "Via een chat-app" not in page
    assert 'href="/chat"' in page and 'href="/staff/login"' in page
