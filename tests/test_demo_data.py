"""`make run`'s demo work: every demo account's first screen has work on it, across statuses, ages and
categories, with merged duplicates; loading twice adds nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from meldingen.accounts.models import StaffUser
from meldingen.extensions import db
from meldingen.reports.models import Report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test


def test_each_demo_account_has_work_on_its_first_screen_and_loading_again_adds_nothing(app):
    from meldingen.demo import DEMO_PASSWORD, ensure_demo_staff
    from meldingen.demo_data import load_demo_data

    ensure_demo_staff()
    made = load_demo_data()
    assert made["reports"] >= 30 and made["rules"] == 2 and made["conversations"] == 3
    assert load_demo_data() == {"rules": 0, "reports": 0, "conversations": 0}

    statuses = set(db.session.scalars(select(Report.status)))
    assert {"new", "in_progress", "planned", "done", "duplicate"} <= statuses
    assert db.session.scalar(select(func.count()).select_from(Report).where(Report.duplicate_of_id.is_not(None))) >= 3
    assert len(set(db.session.scalars(select(Report.category_id)))) >= 10

    client = app.test_client()
    for user in db.session.scalars(select(StaffUser)).all():
        client.post("/staff/logout")
        answer = client.post("/staff/login", data={"email": user.email, "password": DEMO_PASSWORD})
        first = client.get(answer.headers["Location"]).get_data(as_text=True)
        if user.role == "crew":
            assert "Geen open meldingen." not in first and "open meldingen</h2>" in first
        elif user.role == "head":
            assert 'id="total-open">0<' not in first and "Geen meldingen met deze filters." not in first
        elif user.role == "agent":
            assert "Fatima" in first or "whatsapp" in first.lower()
        else:
            assert "open meldingen" in first
