"""The resident's rights: everything held about one resident (right of access) and erasing it (right to erasure).

A resident is a `Reporter`: one person on one channel. What is held about them: the reporter row (platform id,
name, language), their conversations and messages, the raw platform deliveries behind those messages, the
messages sent to them, the reports they made and the reports they follow. Erasure replaces all of that by
placeholders; the reports themselves stay (the loose tile still has to be fixed), with their public text.
"""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import exists, or_, select, update

from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.media.models import Photo
from meldingen.notify.models import OutboundMessage
from meldingen.privacy.public import is_person_related, public_text
from meldingen.privacy.redaction import redact_text
from meldingen.reports.models import Report, ReportSubscription
from meldingen.residents.models import Conversation, ConversationMessage, Reporter
from meldingen.timeutil import isoformat, utcnow

REMOVED = "[verwijderd]"


def visible_reporter(staff, reporter_id: int) -> Reporter | None:
    """The resident if they reported to, follow a report of, or talked with this staff member's organisation."""
    from meldingen.reports.access import scope_reports, visible_organisation_ids

    reporter = db.session.get(Reporter, reporter_id)
    if reporter is None:
        return None
    own = scope_reports(select(Report.id).where(Report.reporter_id == reporter_id), staff).limit(1)
    followed = scope_reports(select(Report.id).join(ReportSubscription, ReportSubscription.report_id == Report.id)
                             .where(ReportSubscription.reporter_id == reporter_id), staff).limit(1)
    talked = select(Conversation.id).where(Conversation.reporter_id == reporter_id,
                                           Conversation.organisation_id.in_(visible_organisation_ids(staff))).limit(1)
    for query in (own, followed, talked):
        if db.session.scalar(query) is not None:
            return reporter
    return None


def resident_export(reporter: Reporter) -> dict:
    """Everything held about the resident, as plain data (JSON-able)."""
    conversations = db.session.scalars(select(Conversation).where(Conversation.reporter_id == reporter.id)
                                       .order_by(Conversation.id)).all()
    messages = db.session.scalars(
        select(ConversationMessage).where(ConversationMessage.conversation_id.in_([c.id for c in conversations]
                                                                                 or [0]))
        .order_by(ConversationMessage.id)).all()
    event_ids = [m.inbound_event_id for m in messages if m.inbound_event_id is not None]
    events = db.session.scalars(select(InboundEvent).where(InboundEvent.id.in_(event_ids or [0]))
                                .order_by(InboundEvent.id)).all()
    reports = db.session.scalars(select(Report).where(Report.reporter_id == reporter.id).order_by(Report.id)).all()
    followed = db.session.scalars(
        select(Report.reference).join(ReportSubscription, ReportSubscription.report_id == Report.id)
        .where(ReportSubscription.reporter_id == reporter.id).order_by(Report.reference)).all()
    outbound = db.session.scalars(select(OutboundMessage).where(OutboundMessage.reporter_id == reporter.id)
                                  .order_by(OutboundMessage.id)).all()
    conversation_photos = db.session.scalars(
        select(Photo).where(Photo.conversation_id.in_([c.id for c in conversations] or [0]))).all()
    return {
        "resident": {
            "id": reporter.id, "channel": reporter.channel_kind, "platform_id": reporter.platform_id,
            "name": reporter.display_name, "language": reporter.language,
            "first_seen": isoformat(reporter.created_at), "last_message": isoformat(reporter.last_inbound_at),
            "anonymised_at": isoformat(reporter.anonymised_at),
        },
        "reports": [{
            "reference": r.reference, "created_at": isoformat(r.created_at), "status": r.status,
            "category": r.category.name if r.category is not None else None,
            "description": r.description, "public_description": public_text(r),
            "location": {"lat": r.lat, "lon": r.lon} if r.lat is not None else None,
            "address": " ".join(p for p in (r.address_street, r.address_number, r.address_postcode, r.address_city)
                                if p) or r.address_text,
            "photos": len(r.photos), "closed_at": isoformat(r.closed_at),
        } for r in reports],
        "following": list(followed),
        "conversations": [{
            "id": c.id, "started_at": isoformat(c.created_at), "state": c.state, "language": c.language,
            "draft": c.draft or {},
            "messages": [{"at": isoformat(m.at), "direction": m.direction, "kind": m.kind, "text": m.text,
                          "data": m.data or {}} for m in messages if m.conversation_id == c.id],
        } for c in conversations],
        "photos_in_conversations": len(conversation_photos),
        "platform_deliveries": [{"received_at": isoformat(e.received_at), "channel": e.channel_kind,
                                 "payload": e.payload} for e in events],
        "messages_sent": [{"created_at": isoformat(o.created_at), "state": o.state, "text": o.body,
                           "report": _reference(o.report_id)} for o in outbound],
        "exported_at": isoformat(utcnow()),
    }


def _reference(report_id: int | None) -> str | None:
    return db.session.scalar(select(Report.reference).where(Report.id == report_id)) if report_id else None


def resident_export_csv(export: dict) -> str:
    """The same as rows (what; when; reference; text) for a spreadsheet: one line per thing held."""
    from meldingen.audit.services import safe_cell

    resident = export["resident"]
    rows = [["bewoner", resident["first_seen"], "", json.dumps(resident, ensure_ascii=False)]]
    for r in export["reports"]:
        rows.append(["melding", r["created_at"], r["reference"], r["description"]])
        rows.append(["openbare omschrijving", r["created_at"], r["reference"], r["public_description"]])
        if r["address"]:
            rows.append(["adres", r["created_at"], r["reference"], r["address"]])
    rows += [["volgt melding", "", reference, ""] for reference in export["following"]]
    for c in export["conversations"]:
        for m in c["messages"]:
            rows.append([f"bericht {'van' if m['direction'] == 'in' else 'aan'} bewoner", m["at"], "",
                         m["text"] or json.dumps(m["data"], ensure_ascii=False)])
    for d in export["platform_deliveries"]:
        rows.append(["ontvangen van platform", d["received_at"], "", json.dumps(d["payload"], ensure_ascii=False)])
    rows += [["verstuurd bericht", o["created_at"], o["report"] or "", o["text"]] for o in export["messages_sent"]]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["wat", "wanneer", "melding", "tekst"])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()


def anonymise_reporter(reporter: Reporter, placeholder: str) -> dict:
    """Replace the resident's platform id, name and chat texts by placeholders; their reports lose the
    resident's own words (the public text takes their place) and they follow no report any more."""
    now = utcnow()
    counts = {"messages": 0, "deliveries": 0, "messages_sent": 0, "reports": 0, "subscriptions": 0}
    reporter.platform_id = f"{placeholder}-{reporter.id}"
    reporter.display_name = None
    reporter.anonymised_at = now
    conversation_ids = list(db.session.scalars(select(Conversation.id).where(Conversation.reporter_id == reporter.id)))
    if conversation_ids:
        event_ids = list(db.session.scalars(select(ConversationMessage.inbound_event_id).where(
            ConversationMessage.conversation_id.in_(conversation_ids),
            ConversationMessage.inbound_event_id.is_not(None))))
        counts["messages"] = db.session.execute(
            update(ConversationMessage).where(ConversationMessage.conversation_id.in_(conversation_ids))
            .values(text=REMOVED, data={})).rowcount
        if event_ids:
            counts["deliveries"] = db.session.execute(
                update(InboundEvent).where(InboundEvent.id.in_(event_ids)).values(payload={"anonymised": True})
            ).rowcount
        db.session.execute(update(Conversation).where(Conversation.id.in_(conversation_ids))
                           .values(draft={}, needs_person=False, needs_person_reason=None))
    # Nothing more goes to a resident who is no longer known; what was sent keeps only a placeholder.
    counts["messages_sent"] = db.session.execute(
        update(OutboundMessage).where(OutboundMessage.reporter_id == reporter.id).values(body=REMOVED, payload={})
    ).rowcount
    db.session.execute(
        update(OutboundMessage).where(OutboundMessage.reporter_id == reporter.id,
                                      OutboundMessage.state.in_(("queued", "held")))
        .values(state="failed", last_error="resident anonymised: not sent"))
    for report in db.session.scalars(select(Report).where(Report.reporter_id == reporter.id,
                                                          Report.anonymised_at.is_(None))):
        anonymise_report(report, now)
        counts["reports"] += 1
    counts["subscriptions"] = db.session.execute(
        ReportSubscription.__table__.delete().where(ReportSubscription.reporter_id == reporter.id)).rowcount
    return counts


def anonymise_report(report: Report, now=None) -> None:
    """The resident's words on the report become its public text; a typed address loses what identifies."""
    report.public_description = public_text(report)
    report.description = report.public_description
    if report.address_text:
        report.address_text = redact_text(report.address_text, person_related=is_person_related(report.category))
    report.anonymised_at = now or utcnow()


def erase_resident(reporter: Reporter, *, staff=None, ip: str | None = None) -> dict:
    """The right to erasure, asked by the resident and carried out by an administrator; recorded in the audit
    log. The caller commits."""
    from meldingen.audit.services import record

    counts = anonymise_reporter(reporter, "gewist")
    record("resident.erase", staff=staff, object_type="resident", object_id=str(reporter.id),
           subject_organisation_id=_organisation_of(reporter), details=counts, ip=ip)
    return counts


def _organisation_of(reporter: Reporter) -> int | None:
    return db.session.scalar(select(Report.organisation_id).where(Report.reporter_id == reporter.id,
                                                                  Report.organisation_id.is_not(None))
                             .order_by(Report.id.desc()).limit(1)) or db.session.scalar(
        select(Conversation.organisation_id).where(Conversation.reporter_id == reporter.id,
                                                   Conversation.organisation_id.is_not(None)).limit(1))


def has_recent_or_open_reports(reporter_id_column, cutoff):
    """SQL condition: the resident made or follows a report that is open or was closed after `cutoff`."""
    recent = or_(Report.closed_at.is_(None), Report.closed_at >= cutoff)
    return or_(
        exists().where(Report.reporter_id == reporter_id_column, recent),
        exists().where(ReportSubscription.reporter_id == reporter_id_column,
                       ReportSubscription.report_id == Report.id, recent),
    )
