"""What the heads' one list offers beside its filter: the areas to pick by name, the colleagues to assign to,
selecting every report a filter finds for a bulk change, and filters kept by name per member of staff (on the
server, so they follow the person, not the browser). Plain functions over the session."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import or_, select

from meldingen.accounts.models import SavedFilter, StaffUser
from meldingen.extensions import db
from meldingen.reports.access import visible_organisation_ids

# "Select all matching" reaches every page; one bulk change takes at most this many reports.
MAX_MATCHING = 1000
MAX_SAVED_FILTERS = 30
# Lists whose URL a saved filter may hold.
LIST_PATHS = ("/staff/backlog", "/staff/search")


class SavedFilterRefused(ValueError):
    """A filter that cannot be kept; the message (Dutch) says why."""


def area_choices(staff) -> list[tuple[str, list[tuple[str, str]]]]:
    """The municipalities the staff member sees, each with its districts by name: [(municipality name,
    [(code, name), …])], the municipality itself first ("heel Amsterdam")."""
    from meldingen.geo.models import Area
    from meldingen.organisations.models import Organisation

    codes = list(db.session.scalars(select(Organisation.code).where(
        Organisation.id.in_(visible_organisation_ids(staff)), Organisation.kind != "service_point")))
    rows = db.session.execute(
        select(Area.code, Area.name, Area.level, Area.municipality_code)
        .where(Area.level.in_(("municipality", "district")),
               or_(Area.code.in_(codes), Area.municipality_code.in_(codes)))
        .order_by(Area.name)).all()
    municipalities = {code: name for code, name, level, _m in rows if level == "municipality"}
    groups = []
    for code, name in sorted(municipalities.items(), key=lambda item: item[1]):
        districts = [(c, n) for c, n, level, m in rows if level == "district" and m == code]
        groups.append((name, [(code, f"heel {name}")] + districts))
    return groups


def colleagues(staff) -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).where(
        StaffUser.organisation_id.in_(visible_organisation_ids(staff)), StaffUser.active.is_(True))
        .order_by(StaffUser.name, StaffUser.email)))


def search_args_for_list(args) -> dict:
    """The staff search's URL arguments as the list's: its `state` ("" all, "open", "closed", a status) is the
    list's `status` ("all", "", "closed", a status); the other fields carry over."""
    out = {key: args.get(key) for key in ("q", "category", "department", "area", "assignee", "page")
           if args.get(key)}
    state = args.get("state") or ""
    if any(out.get(key) for key in ("q", "category", "department", "area", "assignee")) or state:
        status = {"": "all", "open": ""}.get(state, state)
        if status:
            out["status"] = status
    return out


def saved_filters(staff) -> list[SavedFilter]:
    return list(db.session.scalars(select(SavedFilter).where(SavedFilter.staff_id == staff.id)
                                   .order_by(SavedFilter.name, SavedFilter.id)))


def save_filter(staff, name: str, url: str) -> SavedFilter:
    """Keep a list's URL under a name (the same name again: the new URL). Raises SavedFilterRefused. Flushes."""
    from meldingen.staff.search import clean_text

    name = clean_text(name)[:60]
    url = clean_text(url)
    parts = urlsplit(url)
    if not name:
        raise SavedFilterRefused("Geef het filter een naam.")
    if parts.scheme or parts.netloc or parts.path not in LIST_PATHS or len(url) > 1000:
        raise SavedFilterRefused("Alleen een filter van de lijst met meldingen kan worden bewaard.")
    existing = db.session.scalar(select(SavedFilter).where(SavedFilter.staff_id == staff.id,
                                                           SavedFilter.name == name))
    if existing is None:
        if len(saved_filters(staff)) >= MAX_SAVED_FILTERS:
            raise SavedFilterRefused(f"U kunt hoogstens {MAX_SAVED_FILTERS} filters bewaren. Verwijder er eerst één.")
        existing = SavedFilter(staff_id=staff.id, name=name)
        db.session.add(existing)
    existing.url = url
    db.session.flush()
    return existing


def delete_filter(staff, filter_id: int) -> bool:
    """Remove one of the staff member's own filters; False when it is not theirs (or not there)."""
    saved = db.session.get(SavedFilter, filter_id)
    if saved is None or saved.staff_id != staff.id:
        return False
    db.session.delete(saved)
    db.session.flush()
    return True
