"""Staff account operations: create accounts, issue API tokens."""

from __future__ import annotations

from sqlalchemy import select

from meldingen.extensions import db
from meldingen.inputs.text import LIMITS, clean_text
from meldingen.organisations.models import Department, Organisation
from meldingen.staff.models import ROLES, ApiToken, StaffUser, hash_token


class StaffError(ValueError):
    pass


def create_staff(email: str, role: str, organisation_code: str, department_code: str | None, password: str,
                 name: str | None = None) -> StaffUser:
    email = clean_text(email).strip().lower()
    if len(email) > LIMITS["email"]:
        raise StaffError(f"an e-mail address has at most {LIMITS['email']} characters")
    if "@" not in email:
        raise StaffError(f"'{email[:60]}' is not an e-mail address")
    name = clean_text(name).strip()[: LIMITS["name"]] or None if name else None
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise StaffError("the password must be at least 8 characters")
    if len(password) > 1000:
        raise StaffError("the password may have at most 1000 characters")
    org = db.session.scalar(select(Organisation).where(Organisation.code == organisation_code))
    if org is None:
        raise StaffError(f"no organisation with code {organisation_code}")
    dept = None
    if department_code:
        dept = db.session.scalar(
            select(Department).where(Department.organisation_id == org.id, Department.code == department_code)
        )
        if dept is None:
            raise StaffError(f"{organisation_code} has no department {department_code}")
    if db.session.scalar(select(StaffUser).where(StaffUser.email == email)) is not None:
        raise StaffError(f"{email} already exists")
    user = StaffUser(email=email, role=role, organisation=org, department=dept, name=name)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def issue_token(email: str) -> str:
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise StaffError(f"no staff account {email}")
    token = ApiToken.new_token_text()
    db.session.add(ApiToken(user=user, token_hash=hash_token(token)))
    db.session.commit()
    return token
