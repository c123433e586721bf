"""/chat: the municipality's own website chat for residents who use no chat app.

The page is static; it talks to the JSON endpoints under /chat/api (meldingen.web.webhooks): a signed
session token (kept by the page, sent as X-Chat-Session) names the resident, so no cookie or CSRF token is
needed, and every message goes through the same intake as WhatsApp, Telegram and SMS.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

bp = Blueprint("chat", __name__)


@bp.get("/chat")
def chat_page():
    """The chat page; its pin map starts over the municipality the page is for (`?gemeente=GM0363`, else the
    configured CHAT_MUNICIPALITY, else every municipality served), so a tap lands in the right place."""
    from meldingen.geo.bounds import municipality_bounds

    code = (request.args.get("gemeente") or current_app.config.get("CHAT_MUNICIPALITY") or "").strip().upper()
    bounds = municipality_bounds([code]) if code else None
    if bounds is None:
        bounds = municipality_bounds()
    return render_template(
        "chat/index.html",
        tile_url=current_app.config.get("TILE_URL") or "",
        tile_attribution=current_app.config.get("TILE_ATTRIBUTION") or "",
        map_bounds=",".join(str(v) for v in bounds) if bounds else "",
    )
