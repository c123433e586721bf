"""Recording to the audit log, and reading it back for an organisation's administrators.

Two ways in:
- `record(...)` from the service layer and the CLI (retention runs, erasure, exports), inside the caller's
  transaction;
- the request hook (`init_app`): every state-changing request a staff member makes to the staff pages or the
  JSON API, and every request that shows a resident's personal data (READS below), is recorded after the
  view answered, with the endpoint as the action, the object from the URL and the client address. New routes
  that change something are recorded without further work; a new page that shows personal data is added to READS.
  The view has committed its own change by then (or rolled back on a refusal); the hook commits its entry in a
  transaction of its own, so refusals are recorded too. A request that failed (5xx) keeps nothing of its own:
  what it left uncommitted is rolled back before its entry is written.
  Each entry says how the request ended (`details["outcome"]`): "refused" when the answer was a 4xx or the view
  said no with an error message (a redirect with an "error" flash, or `g.audit_outcome = "refused"`), "failed"
  for a 5xx, else "done" — a refused account creation is not logged like a success.
  Reads the crew's service worker makes to keep "mijn werk" on the phone (header PREFETCH_HEADER, sent by
  `fetch`, not by a page the person opened) are not recorded as reads: the log holds what a person read.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, Response, g, request
from sqlalchemy import or_, select
from werkzeug.exceptions import HTTPException

from meldingen.audit.models import AuditEntry
from meldingen.extensions import db
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)

# GET endpoints that show a resident's personal data (their words, their conversation, exports): endpoint →
# action. A read that cannot be recorded is not shown (503).
READS = {
    "staff.report_page": "report.read",
    "staff.conversation_page": "conversation.read",
    "staff.backlog_csv": "reports.export",
    "reports.ReportItem": "report.read",
    "reports.Reports": "reports.list",
    "privacy.resident_page": "resident.read",
    "privacy.resident_export": "resident.export",
    "privacy_api.ResidentExport": "resident.export",
    "audit.audit_csv": "audit.export",
}
# Form or JSON fields worth keeping with an action (never passwords, notes, messages or tokens).
DETAIL_FIELDS = ("status", "category", "department", "assignee", "assignee_id", "target", "duplicate_of",
                 "role", "email", "organisation", "active", "code", "kind", "position", "format")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Sent by static/staff/sw.js when it fetches pages to keep them on the phone, not to show them.
PREFETCH_HEADER = "X-Meldingen-Prefetch"
OUTCOMES = {"done": "gelukt", "refused": "geweigerd", "failed": "mislukt"}
# What an action is called on the audit page (an attempt: the outcome says whether it went through); an
# action not named here is shown as recorded.
ACTION_NAMES = {
    "report.read": "melding bekeken", "conversation.read": "gesprek bekeken",
    "reports.export": "meldingen geëxporteerd", "reports.list": "meldingen opgevraagd (API)",
    "resident.read": "melder bekeken", "resident.export": "gegevens van melder geëxporteerd",
    "audit.export": "auditlog geëxporteerd",
    "reports.Reports": "melding maken (API)", "reports.ReportStatus": "status wijzigen (API)",
    "reports.ReportCategory": "categorie van melding wijzigen (API)", "classify.Classify": "categorie voorspellen (API)",
    "routing_rules.RoutingRules": "routeringsregel maken (API)",
    "routing_rules.RoutingRuleItem": "routeringsregel wijzigen (API)", "photos.ReportPhotos": "foto toevoegen (API)",
    "duplicates.Merge": "samenvoegen (API)", "duplicates.Unmerge": "samenvoegen ongedaan maken (API)",
    "privacy_api.PublicDescription": "openbare omschrijving wijzigen (API)",
    "privacy_api.ResidentErase": "gegevens van melder wissen (API)",
    "staff.admin_category_create": "categorie toevoegen", "staff.admin_category_update": "categorie wijzigen",
    "staff.admin_department_save": "afdeling opslaan", "staff.admin_template_save": "antwoordtekst opslaan",
    "staff.admin_import_run": "gebieden of objecten inlezen", "staff.admin_channel_save": "kanaal opslaan",
    "staff.admin_account_create": "account aanmaken", "staff.admin_account_active": "account aan- of uitzetten",
    "staff.admin_rule_save": "routeringsregel opslaan", "staff.admin_rule_delete": "routeringsregel verwijderen",
    "staff.admin_rule_move": "volgorde van regels wijzigen",
    "staff.admin_standard_text_save": "standaardtekst opslaan", "staff.admin_reply_template_save": "snelantwoord opslaan",
    "staff.logout": "afmelden", "staff.change_password": "wachtwoord wijzigen",
    "staff.report_category": "categorie van melding wijzigen", "staff.report_status": "status wijzigen",
    "staff.report_assign": "toewijzen", "staff.report_merge": "samenvoegen",
    "staff.report_unmerge": "samenvoegen ongedaan maken", "staff.admin_token_create": "API-sleutel maken",
    "staff.admin_token_revoke": "API-sleutel intrekken", "staff.admin_open311_key_create": "Open311-sleutel maken",
    "staff.admin_open311_key_revoke": "Open311-sleutel intrekken", "staff.conversation_claim": "gesprek oppakken",
    "staff.conversation_release": "gesprek loslaten", "staff.conversation_reply": "antwoord aan melder",
    "staff.search_bulk": "meldingen tegelijk wijzigen", "staff.saved_filter_save": "filter bewaren",
    "staff.saved_filter_delete": "filter verwijderen", "staff.admin_stuck_retry": "vastgelopen bericht opnieuw",
    "staff.admin_stuck_dismiss": "vastgelopen bericht afsluiten",
    "privacy.report_public_description": "openbare omschrijving wijzigen",
    "privacy.resident_erase": "gegevens van melder wissen",
}
# The details kept with an entry, as the audit page names them; "method" and the answer's status code are what
# the outcome column says in words.
DETAIL_NAMES = {"path": "adres", "status": "status", "category": "categorie", "department": "afdeling",
                "assignee": "toegewezen aan", "assignee_id": "toegewezen aan", "target": "samenvoegen met",
                "duplicate_of": "samengevoegd met", "role": "rol", "email": "e-mail", "organisation": "organisatie",
                "active": "actief", "code": "code", "kind": "soort", "position": "positie", "format": "formaat"}
OBJECT_NAMES = {"report": "melding", "conversation": "gesprek", "resident": "melder", "staff_user": "medewerker",
                "routing_rule": "regel", "channel": "kanaal", "category": "categorie", "api_token": "sleutel"}


def action_name(action: str) -> str:
    return ACTION_NAMES.get(action, action)
AUDITED_PREFIXES = ("/staff/", "/api/")


@dataclass
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    outcome: str = ""  # "done", "refused", "failed" (entries of requests; others have none)


def record(action: str, *, staff=None, actor: str | None = None, object_type: str | None = None,
           object_id: str | None = None, subject_organisation_id: int | None = None, details: dict | None = None,
           ip: str | None = None) -> AuditEntry:
    """Add one entry to the session (the caller commits with its own change)."""
    entry = AuditEntry(
        at=utcnow(),
        actor_id=getattr(staff, "id", None),
        actor=(staff.email if staff is not None else actor) or "system",
        actor_role=getattr(staff, "role", None),
        organisation_id=getattr(staff, "organisation_id", None),
        subject_organisation_id=subject_organisation_id,
        action=action[:80],
        object_type=object_type,
        object_id=str(object_id)[:80] if object_id is not None else None,
        ip=ip,
        details=details or {},
    )
    db.session.add(entry)
    return entry


def client_ip() -> str | None:
    """The client address as the app sees it (behind proxies: after MELDINGEN_PROXY_FIX's ProxyFix)."""
    return request.remote_addr


# --- the request hook --------------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    app.before_request(_remember_actor)
    app.after_request(_record_request)


def _remember_actor() -> None:
    """Who is signed in before the view runs (a sign-out ends the session inside the view).

    `g` lives on the app context, which a request shares with an embedding process or a test that pushed one:
    what an earlier request left there (its token user) must not be taken for this request's actor.
    """
    for key in ("staff", "_login_user", "audit_actor", "audit_details", "audit_subject_organisation_id",
                "audit_outcome", "audit_errors_before"):
        g.pop(key, None)
    if request.path.startswith(AUDITED_PREFIXES) and request.method in WRITE_METHODS:
        g.audit_errors_before = _error_flash_count()
        g.audit_actor = _signed_in_staff()


def _signed_in_staff():
    staff = g.get("staff")  # the JSON API's token user
    if staff is not None:
        return staff
    from flask_login import current_user

    user = current_user._get_current_object() if current_user else None
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _record_request(response: Response) -> Response:
    if not request.path.startswith(AUDITED_PREFIXES) or request.endpoint is None:
        return response
    if request.method in WRITE_METHODS:
        action, read = request.endpoint, False
    elif request.method == "GET" and request.endpoint in READS:
        action, read = READS[request.endpoint], True
        if response.status_code >= 400:
            return response  # nothing was shown
        if is_prefetch():
            return response  # kept on a phone for later, not read by a person now
    else:
        return response
    staff = _signed_in_staff() or g.get("audit_actor")
    if staff is None:
        return response  # not signed in: nothing of a resident was shown or changed
    if response.status_code >= 500:
        db.session.rollback()  # the request failed: only its audit entry is committed, never its half-done work
    object_type, object_id, subject_org = _object_of_request()
    details = {"method": request.method, "path": request.path[:300], "status": response.status_code,
               "outcome": _outcome(response)}
    details.update(_detail_fields())
    details.update(g.get("audit_details") or {})
    try:
        record(action, staff=staff, object_type=object_type, object_id=object_id,
               subject_organisation_id=g.get("audit_subject_organisation_id", subject_org), details=details,
               ip=client_ip())
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("audit log: could not record %s by %s", action, getattr(staff, "email", "?"))
        if read:  # fail closed: what cannot be recorded is not shown
            return Response("Het auditlog is niet beschikbaar; probeer het later opnieuw.", status=503,
                            mimetype="text/plain")
    return response


def is_prefetch() -> bool:
    """A fetch by the service worker to keep a page on the phone. A page the person opens is a navigation
    (`Sec-Fetch-Dest: document`, set by the browser and not by scripts), so the header cannot hide one."""
    return request.headers.get(PREFETCH_HEADER) == "1" and request.headers.get("Sec-Fetch-Dest") != "document"


def _error_flash_count() -> int:
    from flask import session

    try:
        return sum(1 for category, _message in session.get("_flashes", []) if category == "error")
    except (TypeError, ValueError):
        return 0


def _outcome(response: Response) -> str:
    """How the request ended: "failed" (5xx), "refused" (4xx, an error message flashed by this request, or the
    view said so in g.audit_outcome), else "done"."""
    if response.status_code >= 500:
        return "failed"
    if g.get("audit_outcome") in OUTCOMES:
        return g.audit_outcome
    if response.status_code >= 400 or _error_flash_count() > g.get("audit_errors_before", 0):
        return "refused"
    return "done"


def _object_of_request() -> tuple[str | None, str | None, int | None]:
    args = request.view_args or {}
    if "reference" in args:
        from meldingen.reports.models import Report

        reference = _plain_id(str(args["reference"]).upper())
        org = db.session.scalar(select(Report.organisation_id).where(Report.reference == reference))
        return "report", reference, org
    if "conversation_id" in args:
        from meldingen.residents.models import Conversation

        org = db.session.scalar(select(Conversation.organisation_id)
                                .where(Conversation.id == args["conversation_id"]))
        return "conversation", str(args["conversation_id"]), org
    for key, kind in (("reporter_id", "resident"), ("user_id", "staff_user"), ("rule_id", "routing_rule"),
                      ("channel_id", "channel"), ("category_id", "category"), ("token_id", "api_token")):
        if key in args:
            return kind, _plain_id(str(args[key])), None
    return None, None, None


def _plain_id(value: str) -> str:
    """What a URL named, as letters, digits and - . _ only: bytes that were no text (U+FFFD after decoding),
    control characters and the rest of an attacker's path are not written into the log as if they were an id."""
    kept = "".join(c for c in value if c.isascii() and (c.isalnum() or c in "-._"))
    return kept[:64] or "?"


def _detail_fields() -> dict:
    values: dict = {}
    try:
        source = request.form
    except HTTPException:  # a body the view refused as too large or with too many parts: nothing to note from it
        return values
    if request.is_json:
        body = request.get_json(silent=True)
        source = body if isinstance(body, dict) else {}
    for name in DETAIL_FIELDS:
        value = source.get(name)
        if value is not None and not isinstance(value, (dict, list)):
            values[name] = str(value)[:200]
    return values


# --- reading the log ---------------------------------------------------------------------------------------

def readable_entries(staff, flt: AuditFilter):
    """The entries an administrator may read: done by or to their organisation (for a service point, also the
    organisations it serves), newest first."""
    from meldingen.reports.access import visible_organisation_ids

    org_ids = visible_organisation_ids(staff)
    query = select(AuditEntry).where(or_(AuditEntry.organisation_id.in_(org_ids),
                                         AuditEntry.subject_organisation_id.in_(org_ids)))
    if flt.actor:
        query = query.where(AuditEntry.actor.ilike(f"%{flt.actor}%"))
    if flt.action:
        query = query.where(AuditEntry.action.ilike(f"{flt.action}%"))
    if flt.object_id:
        query = query.where(AuditEntry.object_id == flt.object_id.strip().upper()) \
            if not flt.object_id.strip().isdigit() else query.where(AuditEntry.object_id == flt.object_id.strip())
    if flt.outcome in OUTCOMES:
        query = query.where(AuditEntry.details["outcome"].as_string() == flt.outcome)
    if flt.since is not None:
        query = query.where(AuditEntry.at >= flt.since)
    if flt.until is not None:
        query = query.where(AuditEntry.at < flt.until)
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


CSV_COLUMNS = ["at", "actor", "actor_role", "action", "object_type", "object_id", "ip", "details"]


def entries_csv(entries) -> str:
    import json

    from meldingen.timeutil import isoformat

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        writer.writerow([safe_cell(v) for v in (
            isoformat(e.at), e.actor, e.actor_role or "", e.action, e.object_type or "", e.object_id or "",
            e.ip or "", json.dumps(e.details or {}, ensure_ascii=False, sort_keys=True))])
    return out.getvalue()


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (=, +, -, @ at the start)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def last_entry_at(action: str) -> datetime | None:
    return db.session.scalar(select(AuditEntry.at).where(AuditEntry.action == action)
                             .order_by(AuditEntry.at.desc()).limit(1))
