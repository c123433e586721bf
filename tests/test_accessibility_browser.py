"""WCAG 2.1 AA in headless Chromium with axe-core (tests/axe/axe.min.js, the npm package's build, MPL-2.0): every
staff page each of the four roles can open (every GET route under /staff/ without parameters, plus a report
page, its work order, a merge review, a conversation, a routing rule and a resident's page), the resident's chat and the front page have no critical or serious
violation; and the inbox works with the keyboard alone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from meldingen.extensions import db
from tests.factories import make_report
from tests.test_staff_browser import CHROMIUM, PHONE, live_server, sign_in

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

AXE = Path(__file__).parent / "axe" / "axe.min.js"
LAPTOP = {"width": 1366, "height": 800}
BLOCKING = ("critical", "serious")
# GET routes of the staff blueprint that are not pages: data, downloads, the worker script, the sign-out.
NOT_PAGES = ("/sw.js", ".geojson", ".csv", "/export", "/logout", "/events", "/messages", "/poll", ".json")


@pytest.fixture
def backend():
    """The pages' markup does not depend on the database: the browser walk runs once, on SQLite."""
    return "sqlite"


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield instance
        instance.close()


def axe_violations(page) -> list[str]:
    """The critical and serious axe-core violations on the page as it is now, one line per rule and element."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',
                                                                          'wcag21aa', 'best-practice']},
                                           resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.map(n => n.target.join(' ') + ' ' + n.failureSummary)}));
    }""")
    return [f"{v['impact']} {v['id']} ({v['help']}): {node}" for v in results if v["impact"] in BLOCKING
            for node in v["nodes"][:3]]


def staff_page_paths(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if (rule.rule.startswith("/staff/") and "GET" in rule.methods and not rule.arguments
                and not any(part in rule.rule for part in NOT_PAGES)):
            paths.append(rule.rule)
    return sorted(set(paths))


@pytest.fixture
def volume_of_work(app, make_staff):
    """Reports of every kind a page shows: open, late, assigned, with several residents; and a conversation
    waiting for a person."""
    from meldingen.organisations.models import Organisation
    from meldingen.reports.services import change_status
    from meldingen.residents.models import Conversation, ConversationMessage, Reporter
    from meldingen.routing.models import RoutingRule
    from meldingen.timeutil import utcnow

    first = make_report("Losse stoeptegel bij de bushalte, zie https://voorbeeld.nl/een/heel/lange/link/"
                        + "zonder-spaties-" * 12, point=(52.3880, 4.8885))
    late = make_report("Tegel al weken los", point=(52.3905, 4.8870))
    late.deadline = late.created_at - timedelta(days=2)
    busy = make_report("Container vol", point=(52.3895, 4.8900), category="container-is-vol")
    change_status(busy, "in_progress")
    busy.department = first.department
    org = db.session.query(Organisation).filter_by(code="GM0363").one()
    reporter = Reporter(channel_kind="whatsapp", platform_id="31612340000", display_name="Sanne de Vries")
    db.session.add(reporter)
    db.session.flush()
    conversation = Conversation(reporter_id=reporter.id, channel_kind="whatsapp", needs_person=True,
                                needs_person_reason="De melder vraagt om een medewerker",
                                needs_person_since=utcnow() - timedelta(minutes=3), organisation_id=org.id,
                                draft={})
    db.session.add(conversation)
    db.session.flush()
    db.session.add_all([
        ConversationMessage(conversation_id=conversation.id, direction="in", kind="text",
                            text="Er ligt al dagen grofvuil naast de container"),
        ConversationMessage(conversation_id=conversation.id, direction="in", kind="location",
                            data={"location": {"lat": 52.3877, "lon": 4.8926}}),
    ])
    rule = RoutingRule(position=5, name="Amsterdam: containers", active=True,
                       conditions={"organisation_codes": ["GM0363"], "main_slugs": ["afval"]},
                       organisation_code="GM0363")
    db.session.add(rule)
    db.session.commit()
    staff = {role: make_staff(role, "GM0363", first.department.code if role == "crew" else None)[0]
             for role in ("crew", "head", "agent", "admin")}
    first.assignee_id = staff["crew"].id
    db.session.commit()
    return {"report": first.reference, "other": late.reference, "conversation": conversation.id, "staff": staff,
            "rule": rule.id, "resident": reporter.id}


@pytest.mark.parametrize("role", ["crew", "head", "agent", "admin"])
def test_every_staff_page_a_role_opens_has_no_critical_or_serious_accessibility_violation(
        app, live_server, browser, volume_of_work, role):
    user = volume_of_work["staff"][role]
    paths = staff_page_paths(app) + [f"/staff/reports/{volume_of_work['report']}",
                                     f"/staff/reports/{volume_of_work['report']}/werkbon",
                                     f"/staff/reports/{volume_of_work['report']}/merge?target={volume_of_work['other']}",
                                     f"/staff/inbox/{volume_of_work['conversation']}",
                                     f"/staff/admin/rules/{volume_of_work['rule']}",
                                     f"/staff/admin/residents/{volume_of_work['resident']}"]
    context = browser.new_context(viewport=PHONE if role == "crew" else LAPTOP, bypass_csp=True)
    page = context.new_page()
    sign_in(page, live_server, user.email)
    page.wait_for_load_state()
    found: dict[str, list[str]] = {}
    checked = []
    for path in paths:
        response = page.goto(live_server + path)
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        if page.locator("#map").count():
            page.wait_for_selector("#map.loaded, #map.failed")
        page.wait_for_load_state("networkidle")
        checked.append(path)
        problems = axe_violations(page)
        if problems:
            found[path] = problems
    context.close()
    assert len(checked) >= {"crew": 6, "head": 9, "agent": 4, "admin": 20}[role], checked
    assert not found, "\n".join(f"{path}:\n  " + "\n  ".join(lines) for path, lines in found.items())


def test_the_chat_and_the_front_page_have_no_critical_or_serious_accessibility_violation(app, live_server,
                                                                                         browser):
    context = browser.new_context(viewport=PHONE, bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    found = {}
    for path in ("/", "/chat"):
        response = page.goto(live_server + path)
        assert response is not None and response.status == 200
        page.wait_for_load_state("networkidle")
        found[path] = axe_violations(page)
    context.close()
    assert not any(found.values()), found


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus (as a keyboard user does)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus with Tab")


def test_an_agent_answers_a_resident_from_the_inbox_with_the_keyboard_alone(app, live_server, browser,
                                                                              volume_of_work):
    from sqlalchemy import select

    from meldingen.residents.models import ConversationMessage

    agent = volume_of_work["staff"]["agent"]
    conversation_id = volume_of_work["conversation"]
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto(f"{live_server}/staff/login")
    tab_to(page, "input[name=email]")
    page.keyboard.type(agent.email)
    tab_to(page, "input[name=password]")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/inbox")
    tab_to(page, f"#inbox-list a[href$='/staff/inbox/{conversation_id}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/inbox/{conversation_id}")
    tab_to(page, "#claim")
    page.keyboard.press("Enter")
    page.wait_for_selector("form.reply textarea[name=body]")
    tab_to(page, "form.reply textarea[name=body]")
    page.keyboard.type("Dank u wel. De buitendienst haalt het grofvuil morgen op.")
    tab_to(page, "form.reply button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash.ok")
    assert "Antwoord verstuurd" in page.inner_text(".flash.ok")
    context.close()
    db.session.rollback()
    sent = db.session.scalars(select(ConversationMessage.text).where(
        ConversationMessage.conversation_id == conversation_id, ConversationMessage.direction == "out")).all()
    assert "Dank u wel. De buitendienst haalt het grofvuil morgen op." in sent


def test_the_status_confirmation_in_the_page_and_from_the_server_has_no_critical_or_serious_violation(
        app, live_server, browser, make_staff):
    from tests.test_staff_status_keyboard_browser import followed_report

    report = followed_report(2)
    crew, _ = make_staff("crew", "GM0363", report.department.code)
    reference = report.reference
    found = {}
    for dialog in (True, False):
        context = browser.new_context(viewport=PHONE, bypass_csp=True)
        page = context.new_page()
        if not dialog:  # as without the page's script: the server asks for the confirmation itself
            page.route("**/static/staff/report.js", lambda route: route.fulfill(body="", content_type="text/javascript"))
        sign_in(page, live_server, crew.email)
        page.wait_for_url("**/staff/map")
        page.goto(f"{live_server}/staff/reports/{reference}")
        page.fill("textarea[name=note]", "Tegel teruggelegd")
        page.click("button[name=status][value=done]")
        if dialog:
            page.wait_for_selector("#preview-dialog[open]")
            page.wait_for_selector("#preview-texts *")
        else:
            page.wait_for_selector("input[name=confirmed]", state="attached")
        found["dialog" if dialog else "confirmation page"] = axe_violations(page)
        context.close()
    assert not any(found.values()), found
