"""Outbound HTTP shared by the platform clients: timeouts, retryable errors, and credentials kept on their host."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

# Every platform call has a timeout: connect quickly, allow a slow body (media) a little longer.
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_REDIRECTS = 5
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class PlatformError(Exception):
    """A platform call failed. `retryable` says whether trying again later can help (429, 5xx, network);
    `uncertain` that the request may have reached the platform and been acted on (it was sent, but no answer
    came: a read timeout, a dropped connection), so repeating it blindly could do it twice."""

    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None, code: str | None = None,
                 uncertain: bool = False):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
        self.code = code  # the platform's own error code, e.g. WhatsApp 131047 or Twilio 63016
        self.uncertain = uncertain


def platform_timeout() -> httpx.Timeout:
    """The timeout of platform calls: config PLATFORM_TIMEOUT (seconds) inside an app, else the default."""
    from flask import current_app, has_app_context

    if has_app_context():
        seconds = float(current_app.config.get("PLATFORM_TIMEOUT") or 0)
        if seconds > 0:
            return httpx.Timeout(seconds, connect=min(5.0, seconds))
    return DEFAULT_TIMEOUT


# Failures after which the request was certainly not acted on: it never left (connecting, waiting for a pooled
# connection). Any other timeout or transport error happened after it may have been sent.
_NOT_SENT = (httpx.ConnectTimeout, httpx.ConnectError, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass(frozen=True)
class Download:
    data: bytes
    content_type: str | None


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def same_origin(url: str, other: str) -> bool:
    return origin(url) == origin(other)


def error_for_response(response: httpx.Response, platform: str) -> PlatformError:
    """Turn a failed platform response into a PlatformError with the platform's own message and code."""
    code = None
    detail = response.text[:300]
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), dict):  # Graph API
            err = body["error"]
            code = str(err.get("code")) if err.get("code") is not None else None
            detail = str(err.get("message") or detail)
        elif "description" in body:  # Telegram
            code = str(body.get("error_code")) if body.get("error_code") is not None else None
            detail = str(body["description"])
        elif "message" in body:  # Twilio
            code = str(body.get("code")) if body.get("code") is not None else None
            detail = str(body["message"])
    retryable = response.status_code in RETRYABLE_STATUSES
    return PlatformError(
        f"{platform} answered {response.status_code}: {detail}",
        retryable=retryable,
        status_code=response.status_code,
        code=code,
    )


def call_json(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    platform: str,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    data: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    auth: tuple[str, str] | None = None,
    timeout: float | None = None,
) -> dict:
    """One platform API call answering JSON; redirects are not followed (an API call that redirects is wrong).

    `timeout` (seconds, for the whole call) replaces the default for calls that must stay short."""
    try:
        response = client.request(
            method,
            url,
            headers=headers,
            json=json,
            data=data,
            params=params,
            auth=auth,
            timeout=httpx.Timeout(timeout) if timeout is not None else platform_timeout(),
            follow_redirects=False,
        )
    except httpx.TimeoutException as exc:
        raise PlatformError(f"{platform}: timeout calling {_safe(url)}", retryable=True,
                            uncertain=not isinstance(exc, _NOT_SENT)) from exc
    except httpx.TransportError as exc:
        raise PlatformError(f"{platform}: cannot reach {_safe(url)}: {type(exc).__name__}", retryable=True,
                            uncertain=not isinstance(exc, _NOT_SENT)) from exc
    if response.status_code >= 300:
        raise error_for_response(response, platform)
    try:
        body = response.json()
    except ValueError:
        raise PlatformError(f"{platform} answered something that is not JSON", retryable=True) from None
    if not isinstance(body, dict):
        raise PlatformError(f"{platform} answered an unexpected JSON shape", retryable=False)
    return body


def download(
    client: httpx.Client,
    url: str,
    *,
    platform: str,
    max_bytes: int,
    credential_origins: tuple[str, ...],
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> Download:
    """GET a media file, following redirects by hand.

    Credentials (`headers`, `auth`) go only to URLs on one of `credential_origins` (scheme, host and port);
    a redirect elsewhere (Twilio's CDN, say) is followed without them, so a forged media URL cannot collect
    them. The body is read with a cap of `max_bytes`; more is a non-retryable "too large".
    """
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        trusted = any(same_origin(current, o) for o in credential_origins)
        scheme = urlsplit(current).scheme
        if scheme not in ("https", "http"):
            raise PlatformError(f"{platform}: refusing media URL with scheme {scheme!r}", retryable=False)
        try:
            with client.stream(
                "GET",
                current,
                headers=dict(headers or {}) if trusted else None,
                auth=auth if trusted else None,
                timeout=platform_timeout(),
                follow_redirects=False,
            ) as response:
                if response.is_redirect:
                    location = response.headers.get("location")
                    if not location:
                        raise PlatformError(f"{platform}: redirect without a location", retryable=False)
                    current = urljoin(current, location)
                    continue
                if response.status_code >= 300:
                    response.read()
                    raise error_for_response(response, platform)
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise PlatformError(
                        f"{platform}: media of {declared} bytes is over the limit of {max_bytes}",
                        retryable=False,
                        status_code=413,
                        code="too_large",
                    )
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise PlatformError(
                            f"{platform}: media is over the limit of {max_bytes} bytes",
                            retryable=False,
                            status_code=413,
                            code="too_large",
                        )
                    chunks.append(chunk)
                content_type = response.headers.get("content-type")
                return Download(b"".join(chunks), content_type.split(";")[0].strip() if content_type else None)
        except httpx.TimeoutException as exc:
            raise PlatformError(f"{platform}: timeout downloading media", retryable=True) from exc
        except httpx.TransportError as exc:
            raise PlatformError(f"{platform}: cannot download media: {type(exc).__name__}", retryable=True) from exc
    raise PlatformError(f"{platform}: too many redirects for media", retryable=False)


def _safe(url: str) -> str:
    """The URL without its path: Telegram puts the bot token in the path, and that must not reach a log."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
