"""Abuse limits that hit the abuser, not the office: each limit is keyed on who sends (an account, a chat session,
an API token or Open311 key, an address) and its size is configuration (`MELDINGEN_LIMIT_*`, meldingen.config).

Views decorate themselves with the `limit_*` decorators below; the key and size functions are module-level, so
an app made twice (tests, workers) registers each limit once. Storage: Redis when MELDINGEN_BROKER_URL is set
(every web process counts together), memory otherwise. Webhooks are not limited by decorators: a verified platform
delivery is never refused (see `unverified_webhook_allowed` and `channels.receiving.channel_over_limit`).
"""

from __future__ import annotations

import hashlib

from flask import current_app, request
from flask_limiter.util import get_remote_address

from meldingen.extensions import limiter
from meldingen.quotas import within_limit

CHAT_TOO_FAST = ("U stuurt veel berichten kort na elkaar. Wacht een minuut en probeer het dan opnieuw. "
                 "(You are sending many messages in a short time. Please wait a minute and try again.)")
LOGIN_TOO_MANY = "Te veel mislukte pogingen om aan te melden. Wacht even en probeer het opnieuw."


def _config(key: str):
    def size() -> str:
        return current_app.config[key]

    size.__name__ = f"limit_{key.lower()}"
    return size


login_account_size = _config("LIMIT_LOGIN_ACCOUNT")
login_ip_size = _config("LIMIT_LOGIN_IP")
chat_session_size = _config("LIMIT_CHAT_SESSION")
chat_ip_size = _config("LIMIT_CHAT_IP")
chat_new_session_size = _config("LIMIT_CHAT_NEW_SESSION_IP")
chat_poll_size = _config("LIMIT_CHAT_POLL")
open311_key_size = _config("LIMIT_OPEN311_POST_KEY")
open311_ip_size = _config("LIMIT_OPEN311_POST_IP")
api_size = _config("LIMIT_API")
public_ip_size = _config("LIMIT_PUBLIC_IP")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def login_account_key() -> str:
    """The account tried, as typed (normalised); never the password."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return "account:" + _digest(email)


def chat_session_key() -> str:
    from meldingen.channels import webchat

    session_id = webchat.verify_session_token(current_app.config["SECRET_KEY"],
                                              request.headers.get(webchat.SESSION_HEADER))
    return "chat:" + session_id if session_id else "ip:" + (get_remote_address() or "")


def open311_key_key() -> str:
    key = (request.values.get("api_key") or request.headers.get("Authorization") or "").strip()
    return "key:" + _digest(key) if key else "ip:" + (get_remote_address() or "")


def api_token_key() -> str:
    header = request.headers.get("Authorization", "")
    return "token:" + _digest(header) if header else "ip:" + (get_remote_address() or "")


def failed_sign_in(response) -> bool:
    return response.status_code == 401


def limit_login(view):
    """Failed sign-ins count, per account and per address: one colleague's typos lock out only that account."""
    view = limiter.limit(login_account_size, key_func=login_account_key, methods=["POST"], scope="login-account",
                         deduct_when=failed_sign_in, error_message=LOGIN_TOO_MANY)(view)
    return limiter.limit(login_ip_size, methods=["POST"], scope="login-ip", deduct_when=failed_sign_in,
                         error_message=LOGIN_TOO_MANY)(view)


def limit_chat_messages(view):
    view = limiter.limit(chat_session_size, key_func=chat_session_key, methods=["POST"], scope="chat-session",
                         error_message=CHAT_TOO_FAST)(view)
    return limiter.limit(chat_ip_size, methods=["POST"], scope="chat-ip", error_message=CHAT_TOO_FAST)(view)


def limit_chat_polls(view):
    return limiter.limit(chat_poll_size, key_func=chat_session_key, scope="chat-poll",
                         error_message=CHAT_TOO_FAST)(view)


def limit_chat_sessions(view):
    return limiter.limit(chat_new_session_size, scope="chat-new-session", error_message=CHAT_TOO_FAST)(view)


def refused_key(response) -> bool:
    return response.status_code == 403


def limit_open311_post(view):
    """Per key (LIMIT_OPEN311_POST_KEY) for an application's requests; per address (LIMIT_OPEN311_POST_IP) only
    what came without a valid key, so several applications behind one address are not held to the smaller one."""
    view = limiter.limit(open311_key_size, key_func=open311_key_key, methods=["POST"], scope="open311-key")(view)
    return limiter.limit(open311_ip_size, methods=["POST"], scope="open311-ip", deduct_when=refused_key)(view)


def limit_public_reads(view):
    return limiter.limit(public_ip_size, scope="public-read")(view)


def retry_after_only_when_refused(app) -> None:
    """Flask-Limiter's headers tell every caller its limit, what remains and when it resets; `Retry-After` means
    "try again then" (RFC 9110), so it goes only on a 429 or 503. Registered before the limiter's own hook, which
    adds the headers, so that this runs after it (Flask runs a response's hooks in reverse order)."""

    @app.after_request
    def _retry_after_only_when_refused(response):
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response


def limit_api_blueprint(blueprint) -> None:
    limiter.limit(api_size, key_func=api_token_key, scope="api")(blueprint)


# --- webhooks: refuse only what is not the platform ----------------------------------------------------------

def unverified_webhook_allowed(kind: str) -> bool:
    """A delivery that failed its signature check: 403 while this address stays under the limit, 429 after."""
    return within_limit("LIMIT_WEBHOOK_UNVERIFIED_IP", "webhook-unverified", kind, get_remote_address() or "")
