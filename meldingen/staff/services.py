"""Staff account operations: create accounts; issue, list and revoke their API tokens.

Each flushes what it made and returns it; the request or command that called it commits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from meldingen.accounts.models import ROLES, ApiToken, StaffUser, hash_token
from meldingen.extensions import db
from meldingen.inputs.text import LIMITS, clean_text
from meldingen.organisations.models import Department, Organisation
from meldingen.timeutil import utcnow

# A token lives this long unless its maker chooses otherwise; a token for ever is a token nobody remembers.
DEFAULT_TOKEN_DAYS = 180
MAX_TOKEN_DAYS = 730


class StaffError(ValueError):
    """An account or token that cannot be made; str() is English (the CLI), `dutch` plain Dutch (the pages)."""

    def __init__(self, message: str, dutch: str | None = None):
        super().__init__(message)
        self.dutch = dutch or message


def create_staff(email: str, role: str, organisation_code: str, department_code: str | None, password: str,
                 name: str | None = None) -> StaffUser:
    email = clean_text(email).strip().lower()
    if len(email) > LIMITS["email"]:
        raise StaffError(f"an e-mail address has at most {LIMITS['email']} characters",
                         f"een e-mailadres heeft hoogstens {LIMITS['email']} tekens")
    if "@" not in email:
        raise StaffError(f"'{email[:60]}' is not an e-mail address", f"‘{email[:60]}’ is geen e-mailadres")
    name = clean_text(name).strip()[: LIMITS["name"]] or None if name else None
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}", "kies een rol uit de lijst")
    if len(password) < 8:
        raise StaffError("the password must be at least 8 characters", "het wachtwoord moet minstens 8 tekens hebben")
    if len(password) > 1000:
        raise StaffError("the password may have at most 1000 characters",
                         "het wachtwoord mag hoogstens 1000 tekens hebben")
    org = db.session.scalar(select(Organisation).where(Organisation.code == organisation_code))
    if org is None:
        raise StaffError(f"no organisation with code {organisation_code}",
                         f"organisatie {organisation_code} bestaat niet")
    dept = None
    if department_code:
        dept = db.session.scalar(
            select(Department).where(Department.organisation_id == org.id, Department.code == department_code)
        )
        if dept is None:
            raise StaffError(f"{organisation_code} has no department {department_code}",
                             f"afdeling {department_code} bestaat niet bij deze organisatie")
    if db.session.scalar(select(StaffUser).where(StaffUser.email == email)) is not None:
        raise StaffError(f"{email} already exists", f"er is al een account voor {email}")
    user = StaffUser(email=email, role=role, organisation=org, department=dept, name=name)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def staff_by_email(email: str) -> StaffUser:
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise StaffError(f"no staff account {email}", f"er is geen account {email}")
    return user


def issue_token(email: str, name: str = "", days: int = DEFAULT_TOKEN_DAYS) -> str:
    """A new API token for the account, valid for `days`; the token text is returned once, only its hash kept."""
    return issue_token_for(staff_by_email(email), name, days)[1]


def issue_token_for(user: StaffUser, name: str = "", days: int = DEFAULT_TOKEN_DAYS) -> tuple[ApiToken, str]:
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise StaffError(f"a token is valid for 1 to {MAX_TOKEN_DAYS} days",
                         f"een sleutel is 1 tot {MAX_TOKEN_DAYS} dagen geldig")
    token = ApiToken.new_token_text()
    record = ApiToken(user=user, token_hash=hash_token(token), name=(name or "").strip()[:100],
                      expires_at=utcnow() + timedelta(days=days))
    db.session.add(record)
    db.session.flush()
    return record, token


def tokens_of(email: str) -> list[ApiToken]:
    """The account's API tokens, newest first (revoked and expired ones included, for the record)."""
    user = staff_by_email(email)
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(token_id: int, staff=None) -> ApiToken:
    """Revoke a token (it stops working once the caller commits). With `staff`, only a token of an account that
    staff member may manage."""
    from meldingen import authz

    token = db.session.get(ApiToken, token_id)
    if token is None or (staff is not None and not authz.may_act_for(staff, token.user.organisation_id)):
        raise StaffError(f"no API token {token_id}", "deze sleutel bestaat niet")
    if not token.revoked:
        token.revoked = True
        token.revoked_at = utcnow()
        db.session.flush()
    return token


def token_state(token: ApiToken, now=None) -> str:
    """"active", "revoked" or "expired"."""
    if token.revoked:
        return "revoked"
    return "active" if token.is_valid(now or utcnow()) else "expired"
