"""Staff account operations: create accounts, issue API tokens."""

from __future__ import annotations

from sqlalchemy import select

from meldingen.extensions import db
from meldingen.organisations.models import Department, Organisation
from meldingen.staff.models import ROLES, ApiToken, StaffUser, hash_token


class StaffError(ValueError):
    pass


def create_staff(email: str, role: str, organisation_code: str, department_code: str | None, password: str,
                 name: str | None = None) -> StaffUser:
    email = email.strip().lower()
    if "@" not in email:
        raise StaffError(f"'{email}' is not an e-mail address")
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise StaffError("the password must be at least 8 characters")
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
