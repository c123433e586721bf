"""/chat: the municipality's own website chat for residents who use no chat app."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("chat", __name__)


@bp.get("/chat")
def chat_page():
    return render_template("chat/index.html")
