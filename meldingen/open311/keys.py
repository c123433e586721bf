"""Open311 api_keys: one per application and organisation, issued by an operator or administrator, revocable.

A key lets an application (a municipality's own app, a national reporting app) create service requests for the
organisations its organisation acts for. Only the key's SHA-256 is stored; the key is shown once. Issuing and
revoking flush; the request or command that called them commits.
"""

from __future__ import annotations

from sqlalchemy import select

from meldingen.accounts.models import Open311ApiKey, hash_token
from meldingen.extensions import db
from meldingen.organisations.models import Organisation
from meldingen.timeutil import utcnow


class Open311KeyError(ValueError):
    """A key that cannot be issued or revoked; the message says why."""


def issue_key(application: str, organisation_code: str) -> tuple[Open311ApiKey, str]:
    application = (application or "").strip()
    if not application or len(application) > 200:
        raise Open311KeyError("name the application (1 to 200 characters)")
    organisation = db.session.scalar(select(Organisation).where(Organisation.code == organisation_code))
    if organisation is None:
        raise Open311KeyError(f"no organisation with code {organisation_code}")
    text = Open311ApiKey.new_key_text()
    key = Open311ApiKey(application=application, organisation=organisation, key_hash=hash_token(text))
    db.session.add(key)
    db.session.flush()
    return key, text


def keys_of(organisation_ids: list[int] | None = None) -> list[Open311ApiKey]:
    query = select(Open311ApiKey).order_by(Open311ApiKey.created_at.desc(), Open311ApiKey.id.desc())
    if organisation_ids is not None:
        query = query.where(Open311ApiKey.organisation_id.in_(organisation_ids))
    return list(db.session.scalars(query))


def revoke_key(key_id: int, organisation_ids: list[int] | None = None) -> Open311ApiKey:
    key = db.session.get(Open311ApiKey, key_id)
    if key is None or (organisation_ids is not None and key.organisation_id not in organisation_ids):
        raise Open311KeyError(f"no Open311 key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.flush()
    return key


def application_for_key(text: str | None) -> Open311ApiKey | None:
    """The unrevoked key with this text, or None; its last use is written at most once a minute, at once."""
    from meldingen.api.auth import record_last_use

    if not text or len(text) > 200:
        return None
    key = db.session.scalar(select(Open311ApiKey).where(Open311ApiKey.key_hash == hash_token(text.strip()),
                                                        Open311ApiKey.revoked_at.is_(None)))
    if key is None:
        return None
    key_id = key.id
    record_last_use(Open311ApiKey, key_id, utcnow())
    return db.session.get(Open311ApiKey, key_id)
