"""URLs that someone else chose and we will call: an Open311 client's media_url, a subscriber's webhook URL.

Such a URL must not aim our own requests inward: https only (plain http only where a setting allows it), and a
host whose every address is public, never a private, loopback, link-local or reserved one (unless allowed, for
tests and development on loopback). The check is made before every request of a call, redirects included, so a
name that resolves elsewhere later, or a redirect inward, is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class URLRefused(ValueError):
    """A URL we will not call, with the reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_outbound_url(url: str, *, allow_http: bool, allow_private: bool) -> None:
    """Raise URLRefused unless `url` is https (or allowed http) on a host with only public addresses."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise URLRefused("not a valid URL") from None
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise URLRefused(f"scheme {parts.scheme!r} is not allowed (https only)")
    if not host:
        raise URLRefused("no host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise URLRefused(f"host {host!r} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise URLRefused(f"host {host!r} has a non-public address")
