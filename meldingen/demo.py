"""Demo staff accounts and demo work (meldingen.demo_data) for `make run`: created once, the logins printed every
time."""

from __future__ import annotations

import json
import os

from sqlalchemy import select

from meldingen import create_app
from meldingen.accounts.models import StaffUser
from meldingen.extensions import db
from meldingen.seed import SAMPLE_DIR
from meldingen.staff.services import create_staff

DEMO_PASSWORD = "meldingen-demo"


def ensure_demo_staff() -> list[tuple[str, str, str]]:
    data = json.loads((SAMPLE_DIR / "organisations.json").read_text(encoding="utf-8"))
    logins = []
    for item in data.get("staff", []):
        if db.session.scalar(select(StaffUser).where(StaffUser.email == item["email"])) is None:
            create_staff(item["email"], item["role"], item["organisation"], item.get("department"), DEMO_PASSWORD,
                         name=item.get("name"))
        logins.append((item["email"], item["role"], item["organisation"]))
    return logins


def main() -> None:
    app = create_app()
    with app.app_context():
        logins = ensure_demo_staff()
        from meldingen.demo_data import load_demo_data

        made = load_demo_data()
        db.session.commit()
    base = f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    print(f"\nDemo staff logins (password: {DEMO_PASSWORD}) at {base}/staff/login")
    for email, role, org in logins:
        print(f"  {email:38} {role:6} {org}")
    print(f"Demo work: {made['reports']} new reports, {made['rules']} routing rules, "
          f"{made['conversations']} chats waiting (none when they were there already)")
    print(f"Residents' website chat: {base}/chat\n")


if __name__ == "__main__":
    main()
