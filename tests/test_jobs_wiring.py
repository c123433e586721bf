"""The wiring of background work is explicit and fails loudly: every task name the code enqueues resolves in a
worker's app, and a resident's message that nothing takes in stays pending instead of counting as done."""

from __future__ import annotations

import ast
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from meldingen import jobs
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.intake.services import receive_message
from meldingen.residents.models import Conversation
from meldingen.signals import message_received
from meldingen.timeutil import utcnow

SOURCE = Path(__file__).resolve().parent.parent / "meldingen"
# function → position of the task name; a class here carries a task name to enqueue later (the stuck list's
# RestartedWork, enqueued after the page commits): its construction names the task, its methods pass it on.
ENQUEUING = {"enqueue": 0, "enqueue_in": 1, "run_task": 1, "after_commit": 0, "RestartedWork": 0}
TASK_NAME_KEYWORD = "name"


def _strings_assigned(function: ast.AST) -> dict[str, set[str]]:
    """Per variable name in a function, the string constants assigned to it (also by tuple unpacking)."""
    assigned: dict[str, set[str]] = {}
    for node in ast.walk(function):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs = []
            if isinstance(target, ast.Name):
                pairs = [(target, node.value)]
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts))
            for name, value in pairs:
                if isinstance(name, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    assigned.setdefault(name.id, set()).add(value.value)
    return assigned


def enqueued_task_names() -> dict[str, list[str]]:
    """Every task name passed to jobs.enqueue / enqueue_in / after_commit / run_task in the source: name → where."""
    found: dict[str, list[str]] = {}
    unresolved: list[str] = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path.parent.name == "jobs" and path.parent.parent == SOURCE:
            continue  # the seam and backends pass names through, they name none
        tree = ast.parse(path.read_text(encoding="utf-8"))
        carriers = {id(node) for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef) and cls.name in ENQUEUING
                    for node in ast.walk(cls)}
        functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and id(node) not in carriers]
        for function in functions:
            assigned = _strings_assigned(function)
            for call in ast.walk(function):
                if not isinstance(call, ast.Call):
                    continue
                called = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
                if called not in ENQUEUING or (called == "enqueue" and isinstance(call.func, ast.Attribute)
                                               and getattr(call.func.value, "id", "") not in ("jobs",)):
                    continue  # e.g. an RQ queue's own .enqueue, or a backend's
                position = ENQUEUING[called]
                if len(call.args) <= position:
                    continue
                argument = call.args[position]
                where = f"{path.relative_to(SOURCE.parent)}:{call.lineno}"
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    names = {argument.value}
                elif isinstance(argument, ast.Name) and argument.id in assigned:
                    names = assigned[argument.id]
                else:
                    unresolved.append(where)
                    continue
                for name in names:
                    found.setdefault(name, []).append(where)
    assert not unresolved, f"task names this test cannot read (name them as literals): {unresolved}"
    return found


def test_every_task_name_the_code_enqueues_resolves_in_a_worker_app(tmp_path, database_url):
    from tests.conftest import make_app

    # As the embedded background process makes its app; `meldingen worker` makes it the same way.
    worker_app = make_app(tmp_path, database_url, JOBS_BACKEND="thread")
    try:
        table = jobs.registered_tasks(worker_app)
        found = enqueued_task_names()
        # The scan sees the known call sites (the recovery page's retries name theirs through a variable).
        assert {"channels.process_event", "channels.import_spool", "notify.send", "notify.settle", "intake.act",
                "open311.fetch_media"} <= set(found)
        missing = {name: where for name, where in found.items() if name not in table}
        assert not missing, f"enqueued but not in meldingen/tasks.py: {missing}"
        assert set(jobs.PERIODIC_TASKS) <= set(table)
        assert all(callable(func) for func in table.values())
    finally:
        worker_app.extensions["meldingen_jobs"].stop.set()


def test_the_rq_entry_point_keeps_the_name_queued_jobs_carry():
    from meldingen.jobs.backends import RQ_ENTRY

    module, _, attribute = RQ_ENTRY.rpartition(".")
    assert (module, attribute) == ("meldingen.jobs", "run_in_worker")
    assert getattr(jobs, attribute) is jobs.run_in_worker


def test_the_rq_entry_point_without_a_worker_app_fails_rather_than_finishes(monkeypatch):
    monkeypatch.setattr(jobs, "_worker_app", None)
    with pytest.raises(RuntimeError, match="no worker app"):
        jobs.run_in_worker("notify.send_due", {})


def test_no_module_of_the_jobs_package_imports_the_app_or_a_domain_package():
    allowed = ("meldingen.jobs", "meldingen.extensions")
    for path in sorted((SOURCE / "jobs").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("meldingen"):
                names = [alias.name for alias in node.names]
                assert node.module.startswith(allowed) or (node.module == "meldingen" and names == ["jobs"]), \
                    f"{path.name}:{node.lineno} imports {node.module} {names}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("meldingen") or alias.name.startswith(allowed), \
                        f"{path.name}:{node.lineno} imports {alias.name}"


TELEGRAM_TEXT = Path(__file__).parent / "payloads" / "telegram" / "text.json"


@pytest.fixture
def app_config(fake):
    # The job's failure is recorded on the event, not raised into the webhook's request.
    return {"TELEGRAM_BOT_TOKEN": "123456:ABC-def", "TELEGRAM_SECRET_TOKEN": "tg_secret-1",
            "TELEGRAM_API_URL": fake.url, "JOBS_RAISE": False}


def test_a_message_with_no_intake_connected_stays_pending_and_is_taken_in_once_it_is(app, client):
    from meldingen.channels.tasks import process_due

    assert message_received.receivers, "create_app connects the intake"
    message_received.disconnect(receive_message)
    try:
        assert not message_received.receivers
        response = client.post("/webhooks/telegram", data=TELEGRAM_TEXT.read_bytes(), content_type="application/json",
                               headers={"X-Telegram-Bot-Api-Secret-Token": "tg_secret-1"})
        assert response.status_code == 200  # stored and acknowledged: the platform does not send it again
        db.session.expire_all()
        (event,) = db.session.scalars(select(InboundEvent)).all()
        assert (event.state, event.attempts) == ("pending", 1)
        assert "no intake" in event.error
        assert event.next_attempt_at is not None  # tried again after the backoff, by the sweep
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0
    finally:
        message_received.connect(receive_message)
    event.next_attempt_at = utcnow() - timedelta(seconds=1)  # its backoff is over
    db.session.commit()
    app.config["JOBS_RAISE"] = True
    process_due()
    db.session.expire_all()
    assert db.session.get(InboundEvent, event.id).state == "done"
    conversation = db.session.scalars(select(Conversation)).one()
    assert json.loads(TELEGRAM_TEXT.read_text())["message"]["text"] in [
        message.text for message in conversation.messages]
