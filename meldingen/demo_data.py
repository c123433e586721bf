"""Demo work for `make run`: routing rules that give each demo team its reports, a few dozen reports at real
Amsterdam and Emmen addresses across statuses, ages and categories (with merged duplicates), and conversations
waiting in the agents' inbox. Idempotent; never loaded by `load-sample-data`, which tests use. Everything is
flushed, and committed by the caller (`meldingen.demo`)."""

from __future__ import annotations

import csv
from datetime import timedelta

from sqlalchemy import func, select

from meldingen.extensions import db
from meldingen.seed import SAMPLE_DIR
from meldingen.timeutil import utcnow

DEMO_RULE_PREFIX = "Demo: "
# Main categories the demo teams of Stadswerken (STW) handle, in Amsterdam and in Emmen.
STW_MAIN_SLUGS = ["afval", "wegen-verkeer-straatmeubilair", "openbaar-groen-en-water",
                  "overlast-in-de-openbare-ruimte"]

# (sub category slug, what a resident typed); the demo cycles through them.
PROBLEMS = [
    ("onderhoud-stoep-straat-en-fietspad", "Losse stoeptegel voor de deur, mijn moeder is er bijna over gestruikeld"),
    ("container-is-vol", "Glasbak zit helemaal vol, er staan flessen naast"),
    ("grofvuil", "Iemand heeft een oude bank en een matras op de stoep gezet"),
    ("boom", "Grote tak hangt half los boven het fietspad na de storm"),
    ("prullenbak-is-vol", "Prullenbak bij de bushalte puilt uit, afval waait over straat"),
    ("fietsrek-nietje", "Fietsnietje los uit de grond getrokken"),
    ("graffiti-wildplak", "Graffiti op de muur van het speeltuintje"),
    ("maaien-snoeien", "Struiken zo hoog dat je de auto's niet ziet aankomen bij het kruispunt"),
    ("straatmeubilair", "Bankje in het park is kapot, plank ontbreekt"),
    ("hondenpoep", "Elke dag hondenpoep op het grasveld waar kinderen spelen"),
    ("put-riolering-verstopt", "Putje verstopt, na de regen staat de straat blank"),
    ("straatverlichting-openbare-klok", "Lantaarnpaal brandt al een week niet, donker stuk"),
]
# (days ago, status) per demo report, in order; late ones follow from the categories' handling times.
TIMELINE = [(0, "new"), (0, "new"), (1, "new"), (1, "in_progress"), (2, "new"), (2, "planned"), (3, "new"),
            (4, "in_progress"), (5, "new"), (6, "on_hold"), (7, "new"), (8, "planned"), (9, "done"),
            (10, "new"), (12, "in_progress"), (14, "new"), (16, "done"), (18, "reopened"), (21, "new"),
            (25, "planned"), (30, "new"), (35, "cancelled"), (40, "in_progress"), (50, "new"), (60, "new"),
            (75, "done"), (90, "new"), (120, "in_progress")]
EMMEN = (52.7850, 6.8970)
EMMEN_SPOTS = [(0.0, 0.0), (0.004, 0.006), (-0.003, 0.004), (0.006, -0.005), (-0.006, -0.007), (0.009, 0.002),
               (-0.002, -0.012), (0.011, 0.010)]


def ensure_demo_rules() -> int:
    """Rules that send the demo teams' categories to Stadswerken (after the sample rules, so street lights still
    go to OVL). Returns how many were added."""
    from meldingen.accounts.models import StaffUser
    from meldingen.routing.models import RoutingRule
    from meldingen.routing.services import save_rule

    admin = db.session.scalar(select(StaffUser).where(StaffUser.role == "admin").order_by(StaffUser.id))
    added = 0
    for code, town in (("GM0363", "Amsterdam"), ("GM0114", "Emmen")):
        name = f"{DEMO_RULE_PREFIX}buitenruimte {town} naar Stadswerken"
        if db.session.scalar(select(RoutingRule.id).where(RoutingRule.name == name)):
            continue
        save_rule({"name": name, "active": True, "department_code": "STW",
                   "conditions": {"main_slugs": STW_MAIN_SLUGS, "organisation_codes": [code]}}, admin)
        added += 1
    db.session.flush()
    return added


def _amsterdam_points(count: int) -> list[tuple[float, float]]:
    """Real BAG addresses of the sample, spread over the file (one in about every 60)."""
    with open(SAMPLE_DIR / "geodata" / "adressen_amsterdam_bag_sample.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    step = max(1, len(rows) // count)
    return [(float(r["lat"]), float(r["lon"])) for r in rows[::step][:count]]


def ensure_demo_reports() -> int:
    """A few dozen reports (when the database has none yet). Returns how many were made."""
    from meldingen.accounts.models import StaffUser
    from meldingen.pipeline import create_report
    from meldingen.reports.models import Report
    from meldingen.reports.services import NewReport, change_status

    if db.session.scalar(select(func.count()).select_from(Report)):
        return 0
    now = utcnow()
    crew = db.session.scalar(select(StaffUser).where(StaffUser.role == "crew").order_by(StaffUser.id))
    made = []
    places = [("GM0363", p) for p in _amsterdam_points(len(TIMELINE))]
    places += [("GM0114", (EMMEN[0] + dy, EMMEN[1] + dx)) for dy, dx in EMMEN_SPOTS]
    for index, (_org, (lat, lon)) in enumerate(places):
        days, status = TIMELINE[index % len(TIMELINE)]
        slug, text = PROBLEMS[index % len(PROBLEMS)]
        report = create_report(NewReport(description=text, channel="webchat" if index % 3 else "whatsapp",
                                         lat=lat, lon=lon, category_slug=slug, actor="demo",
                                         created_at=now - timedelta(days=days, hours=index % 7)))
        made.append(report)
        _walk_to(report, status, change_status)
        if crew is not None and report.department is not None and report.department.code == "STW" \
                and report.organisation_id == crew.organisation_id and status in ("in_progress", "planned"):
            report.assignee_id = crew.id
        db.session.flush()
    # Neighbours who report the same problem a little later: merged into the known report by the pipeline.
    for report in made[:6]:
        if report.status not in ("new", "in_progress", "planned"):
            continue
        create_report(NewReport(description="Zelfde probleem hier, graag snel oplossen", channel="webchat",
                                lat=report.lat + 0.00004, lon=report.lon + 0.00003,
                                category_slug=report.category.slug, actor="demo",
                                created_at=report.created_at + timedelta(hours=3)))
    db.session.flush()
    return len(made)


def _walk_to(report, status: str, change_status) -> None:
    steps = {"new": [], "in_progress": ["in_progress"], "planned": ["in_progress", "planned"],
             "on_hold": ["in_progress", "on_hold"], "done": ["in_progress", "done"], "cancelled": ["cancelled"],
             "reopened": ["in_progress", "done", "reopened"]}[status]
    for step in steps:
        note = "Opgelost door de buitendienst." if step in ("done", "cancelled", "reopened") else None
        change_status(report, step, note, actor="demo")


def ensure_demo_conversations() -> int:
    """Three chats waiting for an agent (a question the bot could not answer). Returns how many were made."""
    from meldingen.organisations.models import Organisation
    from meldingen.residents.models import Conversation, ConversationMessage, Reporter

    if db.session.scalar(select(func.count()).select_from(Conversation).where(Conversation.needs_person.is_(True))):
        return 0
    amsterdam = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    now = utcnow()
    chats = [
        ("whatsapp", "31600000101", "Fatima", "nl", ["Hoi, ik heb vorige week een melding gedaan over een boom",
                                                     "Wanneer wordt die weggehaald? Hij ligt nog steeds op de stoep"]),
        ("telegram", "700000102", "Jan", "nl",
         ["Kan ik ook melden dat de buren steeds afval naast de container zetten?"]),
        ("webchat", "web-demo-103", None, "en",
         ["Hello, do you speak English?", "The street light at my door is broken"]),
    ]
    for minutes, (kind, platform_id, name, language, texts) in zip((4, 12, 30), chats):
        reporter = Reporter(channel_kind=kind, platform_id=platform_id, display_name=name, language=language)
        db.session.add(reporter)
        db.session.flush()
        at = now - timedelta(minutes=minutes)
        conversation = Conversation(reporter_id=reporter.id, channel_kind=kind, state="collecting",
                                    language=reporter.language, draft={}, last_inbound_at=at, needs_person=True,
                                    needs_person_reason="de melder stelt een vraag", needs_person_since=at,
                                    organisation_id=amsterdam.id if amsterdam else None)
        db.session.add(conversation)
        db.session.flush()
        for offset, text in enumerate(texts):
            db.session.add(ConversationMessage(conversation_id=conversation.id, direction="in", kind="text",
                                               text=text, at=at + timedelta(seconds=20 * offset)))
    db.session.flush()
    return len(chats)


def load_demo_data() -> dict:
    return {"rules": ensure_demo_rules(), "reports": ensure_demo_reports(),
            "conversations": ensure_demo_conversations()}
