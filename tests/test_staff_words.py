"""Every text staff read is Dutch, with the names staff use: each staff page, walked as each role over data that
has been through every kind of change (routed by a rule, moved on, refused, merged, reassigned, a chat waiting
with a shared place), shows no English or developer words and no raw status codes; the history texts and the
counts with their noun are specified on their own."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from meldingen.audit.services import record
from meldingen.extensions import db
from meldingen.organisations.models import Department, Organisation
from meldingen.reports.models import Report, ReportEvent, Status
from meldingen.residents.models import Conversation, ConversationMessage, Reporter
from meldingen.routing.models import RoutingRule
from meldingen.staff.words import actor_name, count, history_lines, reason_text
from meldingen.timeutil import utcnow
from tests.factories import make_report

pytestmark = pytest.mark.rolled_back

PASSWORD = "correct horse battery"

# English and developer words that have reached staff before (the list and their kin), raw markers of
# code, and counts with the wrong noun.
FORBIDDEN = [
    r"\bneeds a note\b", r"\bmoving from\b", r"\bRouted to\b", r"\brouted by\b", r"\bno routing rule\b",
    r"\bquestion\b", r"\bNone\b", r"\bnull\b", r"\bundefined\b", r"\bNaN\b", r"\bTrue\b", r"\bFalse\b",
    r"\bsystem\b", r"\bstatus=", r"\bmethod=", r"\bnot fetched\b", r"\bunknown\b", r"\bcannot\b", r"\bmust be\b",
    r"\balready exists\b", r"\bis not\b", r"\bTraceback\b", r"\bError\b", r"\bchoose\b", r"\bsub category\b",
    r"\bmelder via (whatsapp|telegram|webchat|twilio|messenger|signal)\b", r"(?<![\d.,])\b1 dagen\b",
    r"(?<![\d.,])\b1 melders\b", r"\b0 melders\b", r"\[(photo|text|location)\]",
]


def visible_text(page: str) -> str:
    """What a person sees or hears on the page: text outside scripts and styles, and the attributes that are
    shown or read out (title, placeholder, aria-label, alt, a button's value is not shown)."""
    # Scripts and styles are not text; what a textarea holds is content staff write (English replies for
    # residents who write English among it), not the page's own words.
    page = re.sub(r"(?is)<(script|style|template|textarea)\b.*?</\1>", " ", page)
    page = re.sub(r"(?is)<svg\b.*?</svg>", lambda m: " ".join(re.findall(r">([^<]+)<", m.group(0))), page)
    attributes = re.findall(r'(?i)\b(?:title|placeholder|aria-label|alt)="([^"]*)"', page)
    text = re.sub(r"(?s)<[^>]+>", " ", page)
    return html.unescape(" ".join([text, *attributes]))


def status_codes() -> list[str]:
    return list(db.session.scalars(select(Status.code)))


@pytest.fixture
def lived_in(app, make_staff):
    """Reports and a chat that went through what staff see happen."""
    from meldingen.dedup.services import merge_reports
    from meldingen.pipeline import change_category
    from meldingen.reports.services import change_status
    from meldingen.staff.report_actions import reassign

    head, _ = make_staff("head", "GM0363")
    amsterdam = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    department = db.session.scalar(select(Department).where(Department.organisation_id == amsterdam.id)
                                   .order_by(Department.code))
    db.session.add(RoutingRule(name="Stoep naar de eerste afdeling", position=1, active=True,
                               conditions={"organisation_codes": ["GM0363"]}, department_code=department.code))
    db.session.commit()
    routed = make_report("Losse stoeptegel bij de ingang")
    late = make_report("Scheve tegel", point=(52.3795, 4.8990))
    late.created_at, late.deadline = utcnow() - timedelta(days=1, hours=2), utcnow() - timedelta(hours=1)
    done = make_report("Afval naast de container", point=(52.3700, 4.8800), category="container-is-vol")
    change_status(done, "in_progress", actor=head.email, actor_id=head.id)
    change_status(done, "done", "Opgeruimd", actor=head.email, actor_id=head.id, resident_message="Het is opgeruimd.")
    moved = make_report("Lamp brandt niet", point=(52.3760, 4.8950), category="straatverlichting-openbare-klok")
    change_category(moved, db.session.scalar(select(routed.category.__class__).where(
        routed.category.__class__.slug == "onderhoud-stoep-straat-en-fietspad")), actor=head.email, actor_id=head.id)
    reassign(moved, head, None, head.id)
    duplicate = make_report("Nog een losse tegel", point=(52.3731, 4.8926), category="container-is-vol")
    merge_reports(duplicate, done if done.is_open else late, actor="system")
    reporter = Reporter(channel_kind="whatsapp", platform_id="31612345678", display_name="Jan de Vries")
    db.session.add(reporter)
    db.session.flush()
    conversation = Conversation(reporter_id=reporter.id, channel_kind="whatsapp", needs_person=True,
                                needs_person_reason="question", needs_person_since=utcnow() - timedelta(minutes=3),
                                organisation_id=amsterdam.id, draft={}, last_report_id=routed.id)
    db.session.add(conversation)
    db.session.flush()
    db.session.add_all([
        ConversationMessage(conversation_id=conversation.id, direction="in", at=utcnow(), kind="location",
                            data={"location": {"lat": 52.3877, "lon": 4.8926}}),
        ConversationMessage(conversation_id=conversation.id, direction="in", at=utcnow(), kind="text",
                            text="Hoe lang duurt het nog?"),
    ])
    record("staff.admin_account_create", staff=head, details={"method": "POST", "status": 303,
                                                               "outcome": "refused"})
    db.session.commit()
    return {"reports": [routed, late, done, moved, duplicate], "conversation": conversation,
            "department": department, "reporter": reporter}


def pages_for(data) -> list[str]:
    report = data["reports"][0]
    rule = db.session.scalar(select(RoutingRule).order_by(RoutingRule.id.desc()))
    pages = ["/staff/", "/staff/map", "/staff/werk", "/staff/backlog", "/staff/backlog?status=all",
             "/staff/backlog?late=1", "/staff/search?q=tegel", "/staff/inbox", "/staff/password",
             f"/staff/inbox/{data['conversation'].id}", "/staff/admin", "/staff/admin/categories",
             "/staff/admin/departments", "/staff/admin/templates", "/staff/admin/imports", "/staff/admin/channels",
             "/staff/admin/accounts", "/staff/admin/rules", "/staff/admin/rules/new", f"/staff/admin/rules/{rule.id}",
             "/staff/admin/standard-texts", "/staff/admin/credentials", "/staff/admin/stuck", "/staff/admin/audit",
             f"/staff/admin/residents/{data['reporter'].id}"]
    for r in data["reports"]:
        pages += [f"/staff/reports/{r.reference}", f"/staff/reports/{r.reference}/werkbon"]
    pages.append(f"/staff/reports/{report.reference}/merge?target={data['reports'][1].reference}")
    return pages


@pytest.mark.parametrize(("role", "organisation"), [("head", "GM0363"), ("crew", "GM0363"), ("agent", "GM0363"),
                                                    ("admin", "GM0363"), ("admin", "DSP")])
def test_every_staff_page_speaks_dutch_to_every_role(app, make_staff, lived_in, role, organisation):
    user, _ = make_staff(role, organisation, lived_in["department"].code if role == "crew" else None)
    client = app.test_client()
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    codes = status_codes()
    shown = 0
    for url in pages_for(lived_in):
        response = client.get(url, follow_redirects=True)
        if response.status_code in (403, 404):
            continue  # not this role's page
        assert response.status_code in (200, 400), url
        text = visible_text(response.get_data(as_text=True))
        for pattern in FORBIDDEN:
            found = re.search(pattern, text)
            assert found is None, f"{url} as {role}: ‘{text[max(0, found.start() - 60):found.end() + 60]}’"
        for code in codes:  # a status by its name, never its code
            found = re.search(rf"(?<![\w./-]){re.escape(code)}(?![\w/-])", text)
            assert found is None, f"{url} as {role}: status code ‘{code}’ in ‘{text[max(0, found.start() - 60):found.end() + 60]}’"
        shown += 1
    assert shown >= 5  # every role has pages of its own


def test_the_history_says_what_happened_in_dutch_with_names(app, make_staff, lived_in):
    routed, _late, done, moved, duplicate = lived_in["reports"]
    lines = history_lines(routed)
    routing = [lines[e.id] for e in routed.events if e.kind == "routing"]
    assert routing and routing[0].startswith("doorgezet naar ") and "volgens regel ‘Stoep naar de eerste afdeling’" \
        in routing[0] and lived_in["department"].name in routing[0]
    stored = next(e.note for e in routed.events if e.kind == "routing")
    assert stored.startswith("Doorgezet naar ") and "GM0363 /" not in stored
    moved_lines = [history_lines(moved)[e.id] for e in moved.events if e.kind != "status"]
    assert any(line.startswith("categorie gewijzigd: ") and "→" in line for line in moved_lines)
    assert any(line.startswith("toegewezen aan ") for line in moved_lines)
    merged = [history_lines(duplicate)[e.id] for e in duplicate.events if e.kind == "merge"]
    assert merged and merged[0].startswith("samengevoegd met M-")
    # An event written before the texts were Dutch reads the same (the line comes from its data).
    old = ReportEvent(report_id=routed.id, kind="routing", actor="system", at=utcnow(),
                      note="Routed to GM0363 / STW: no routing rule matched; the category's responsible department",
                      data={"organisation": "GM0363", "department": None, "rule_id": None})
    db.session.add(old)
    db.session.flush()
    db.session.refresh(routed)
    amsterdam = db.session.scalar(select(Organisation.name).where(Organisation.code == "GM0363"))
    assert history_lines(routed)[old.id] == f"doorgezet naar {amsterdam} (geen regel past: de afdeling van de categorie)"


@pytest.mark.parametrize(("n", "expected"), [(0, "0 dagen"), (1, "1 dag"), (2, "2 dagen"), (31, "31 dagen")])
def test_a_count_takes_the_singular_only_for_one(n, expected):
    assert count(n, "dag", "dagen") == expected


def test_who_did_it_and_why_a_chat_waits_are_said_in_words():
    assert actor_name("system") == "automatisch"
    assert actor_name("melder via whatsapp") == "melder via WhatsApp"
    assert actor_name("hoofd@amsterdam.test") == "hoofd@amsterdam.test"
    assert reason_text("question") == "de melder stelt een vraag"
    assert reason_text("de melder vraagt om een medewerker") == "de melder vraagt om een medewerker"


def test_a_crews_list_says_1_dag_oud(app, make_staff, lived_in):
    late = lived_in["reports"][1]
    crew, _ = make_staff("crew", "GM0363", late.department.code)
    client = app.test_client()
    client.post("/staff/login", data={"email": crew.email, "password": PASSWORD})
    text = visible_text(client.get("/staff/map").get_data(as_text=True))
    assert "1 dag oud" in text and not re.search(r"(?<![\d])1 dagen", text)


def test_a_refused_move_is_said_with_the_status_names(app, make_staff, lived_in):
    routed = lived_in["reports"][0]
    head, _ = make_staff("head", "GM0363")
    client = app.test_client()
    client.post("/staff/login", data={"email": head.email, "password": PASSWORD})
    page = client.post(f"/staff/reports/{routed.reference}/status", data={"status": "reopened"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Niet gelukt: een melding met status ‘Gemeld’ kan niet naar ‘Heropend’." in page
    db.session.expire_all()
    assert db.session.get(Report, routed.id).status == "new"


def test_a_report_nobody_follows_does_not_promise_a_message(app, make_staff, lived_in):
    routed = lived_in["reports"][0]
    head, _ = make_staff("head", "GM0363")
    client = app.test_client()
    client.post("/staff/login", data={"email": head.email, "password": PASSWORD})
    text = visible_text(client.get(f"/staff/reports/{routed.reference}").get_data(as_text=True))
    assert "niemand volgt deze melding: er gaat geen bericht uit" in text
    assert "gaat met de nieuwe status naar iedereen" not in text and "0 melders" not in text

