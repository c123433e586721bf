"""Contact agents: the shared inbox of conversations that need a person; claim, read, reply, release."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from meldingen.accounts.models import StaffUser
from meldingen.extensions import db
from meldingen.inputs.bounds import bounded_int
from meldingen.notify.standard_texts import texts_for_inbox
from meldingen.staff import inbox as inbox_service
from meldingen.staff.residents import resident_label
from meldingen.staff.roles import action_required
from meldingen.staff.views import bp
from meldingen.timeutil import utcnow
from meldingen.web.errors import MAX_DB_INT


@bp.get("/inbox")
@action_required("use_inbox")
def inbox():
    now = utcnow()
    conversations = inbox_service.waiting_conversations(current_user)
    holders = _holders(conversations, now)
    context = {"conversations": conversations, "holders": holders, "now": now, "resident_label": resident_label,
               "previews": inbox_service.last_resident_messages(c.id for c in conversations),
               "preview_text": inbox_service.preview_text}
    if request.args.get("fragment") == "1":  # the list alone, for the page's own refresh every few seconds
        return render_template("staff/_inbox_items.html", **context)
    return render_template("staff/inbox.html", **context)


def _holders(conversations, now) -> dict:
    ids = {inbox_service.holder_id(c, now) for c in conversations} - {None}
    users = {u.id: u for u in db.session.scalars(select(StaffUser).where(StaffUser.id.in_(ids or [0])))}
    return {c.id: users.get(inbox_service.holder_id(c, now)) for c in conversations}


def _conversation_or_404(conversation_id: int):
    conversation = inbox_service.visible_conversation(current_user, conversation_id)
    if conversation is None:
        abort(404)
    return conversation


@bp.get("/inbox/<int:conversation_id>")
@action_required("use_inbox")
def conversation_page(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    draft = ""
    chosen = bounded_int(request.args.get("tekst"), default=0, low=0, high=MAX_DB_INT)
    if chosen:  # a reply text picked without JavaScript: the reply box starts with it
        draft = next((t.body for t in texts_for_inbox(conversation.organisation_id) if t.id == chosen), "")
    return _render_conversation(conversation, draft=draft)


def _render_conversation(conversation, draft: str = "", error: str | None = None, status: int = 200):
    holder = _holders([conversation], utcnow())[conversation.id]
    report = None
    if conversation.last_report_id:
        from meldingen.reports.models import Report

        report = db.session.get(Report, conversation.last_report_id)
    return render_template("staff/conversation.html", conversation=conversation, holder=holder,
                           last_message_id=inbox_service.last_message_id(conversation.id), report=report,
                           claim_minutes=inbox_service.claim_seconds() // 60, draft=draft, error=error,
                           photos=inbox_service.photos_of(conversation.messages), resident_label=resident_label,
                           preview_text=inbox_service.preview_text,
                           places=inbox_service.place_names(conversation.messages),
                           reply_texts=texts_for_inbox(conversation.organisation_id),
                           tile_url=current_app.config.get("TILE_URL") or ""), status


@bp.get("/inbox/<int:conversation_id>/messages")
@action_required("use_inbox")
def conversation_messages(conversation_id: int):
    """Messages after `after` (an id), each as the HTML the page shows: the page asks every few seconds."""
    conversation = _conversation_or_404(conversation_id)
    # An id the database can hold; anything else reads from the start (a page that lost its place, or a probe).
    after_id = bounded_int(request.args.get("after"), default=0, low=0, high=MAX_DB_INT)
    messages = inbox_service.messages_after(conversation, after_id)
    photos = inbox_service.photos_of(messages)
    places = inbox_service.place_names(messages)
    items = [{"id": m.id, "direction": m.direction,
              "html": render_template("staff/_message.html", m=m, photos=photos, places=places,
                                      preview_text=inbox_service.preview_text)} for m in messages]
    return jsonify({"messages": items, "last_id": messages[-1].id if messages else after_id})


@bp.post("/inbox/<int:conversation_id>/claim")
@action_required("use_inbox")
def conversation_claim(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    claimed = inbox_service.claim_conversation(conversation.id, current_user)
    db.session.commit()
    if claimed:
        flash("U heeft dit gesprek in behandeling.")
    else:
        db.session.refresh(conversation)
        holder = db.session.get(StaffUser, conversation.claimed_by_id) if conversation.claimed_by_id else None
        who = (holder.name or holder.email) if holder else "een collega"
        flash(f"Dit gesprek is al in behandeling bij {who}.", "error")
        return redirect(url_for("staff.conversation_page", conversation_id=conversation.id)), 303
    return redirect(url_for("staff.conversation_page", conversation_id=conversation.id)), 303


@bp.post("/inbox/<int:conversation_id>/release")
@action_required("use_inbox")
def conversation_release(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    released = inbox_service.release_conversation(conversation.id, current_user)
    db.session.commit()
    if released:
        flash("Gesprek vrijgegeven.")
    return redirect(url_for("staff.inbox")), 303


@bp.post("/inbox/<int:conversation_id>/reply")
@action_required("use_inbox")
def conversation_reply(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    from meldingen.web.errors import db_int

    last_seen = db_int(request.form.get("last_message_id", ""))
    resolved = request.form.get("resolved") == "1"
    try:
        inbox_service.reply_to_conversation(conversation, current_user, request.form.get("body", ""), last_seen,
                                            resolved=resolved)
    except inbox_service.ReplyRefused as exc:
        db.session.rollback()
        # The page again with the newest messages and the agent's text kept, so nothing typed is lost.
        return _render_conversation(conversation, draft=request.form.get("body", ""), error=str(exc), status=409)
    db.session.commit()
    flash("Antwoord verstuurd." + (" Het gesprek is afgerond." if resolved else ""))
    if resolved:
        return redirect(url_for("staff.inbox")), 303
    return redirect(url_for("staff.conversation_page", conversation_id=conversation.id)), 303
