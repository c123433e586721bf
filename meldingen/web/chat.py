"""/chat: the municipality's own website chat for residents who use no chat app.

The page is static; it talks to the JSON endpoints under /chat/api (meldingen.channels.webhooks): a signed
session token (kept by the page, sent as X-Chat-Session) names the resident, so no cookie or CSRF token is
needed, and every message goes through the same intake as WhatsApp, Telegram and SMS.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("chat", __name__)


@bp.get("/chat")
def chat_page():
    return render_template(
        "chat/index.html",
        tile_url=current_app.config.get("TILE_URL") or "",
        tile_attribution=current_app.config.get("TILE_ATTRIBUTION") or "",
    )
