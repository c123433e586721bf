"""The status table as data: the statuses, which moves are allowed, and which need a note."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from meldingen.extensions import db

# code, Dutch name, English name, open?, residents hear of it?
DEFAULT_STATUSES = [
    ("new", "Gemeld", "Reported", True, False),
    ("in_progress", "In behandeling", "In progress", True, False),
    ("planned", "Ingepland", "Planned", True, True),
    ("on_hold", "In afwachting", "On hold", True, False),
    ("forwarded", "Doorgezet naar externe partij", "Forwarded to another body", True, False),
    ("done", "Afgehandeld", "Done", False, True),
    ("cancelled", "Geannuleerd", "Cancelled", False, True),
    ("reopened", "Heropend", "Reopened", True, True),
    ("duplicate", "Samengevoegd met een bestaande melding", "Merged into a known report", False, False),
]

_WORK = ["in_progress", "planned", "on_hold", "forwarded"]
# from, to, note required? Closing (done/cancelled) and reopening always need a note.
DEFAULT_TRANSITIONS = (
    [("new", to, False) for to in _WORK]
    + [("in_progress", to, False) for to in ["planned", "on_hold", "forwarded"]]
    + [("planned", to, False) for to in ["in_progress", "on_hold"]]
    + [("on_hold", to, False) for to in ["in_progress", "planned"]]
    + [("forwarded", to, False) for to in ["in_progress"]]
    + [("reopened", to, False) for to in _WORK]
    + [(frm, to, True) for frm in ["new", "in_progress", "planned", "on_hold", "forwarded", "reopened"]
       for to in ["done", "cancelled"]]
    + [("done", "reopened", True), ("cancelled", "reopened", True)]
    # Merging into a known report, and undoing it, are moves the duplicates service makes.
    + [(frm, "duplicate", False) for frm in ["new", "in_progress", "planned", "on_hold", "reopened"]]
    + [("duplicate", "new", False)]
)


class TransitionRefused(Exception):
    """A status change that the status table does not allow, with the reason (HTTP 409)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class UnknownStatus(TransitionRefused):
    """The status name is not in the status table at all: invalid input (HTTP 422), not a refused move."""


@dataclass(frozen=True)
class StatusTable:
    open_codes: frozenset[str]
    names: dict[str, str]
    notify: frozenset[str]
    moves: dict[tuple[str, str], bool]  # (from, to) -> note required

    def check(self, current: str, new: str, note: str | None) -> None:
        if new not in self.names:
            known = ", ".join(sorted(self.names))
            raise UnknownStatus(f"unknown status '{new}'" + (f"; known: {known}" if known else ""))
        if (current, new) not in self.moves:
            allowed = sorted(to for (frm, to) in self.moves if frm == current)
            raise TransitionRefused(
                f"a report with status '{current}' cannot move to '{new}'; allowed: {', '.join(allowed) or 'none'}"
            )
        if self.moves[(current, new)] and not (note and note.strip()):
            raise TransitionRefused(f"moving from '{current}' to '{new}' needs a note")

    def allowed_from(self, current: str) -> list[str]:
        return sorted(to for (frm, to) in self.moves if frm == current)


def load_status_table() -> StatusTable:
    from meldingen.reports.models import Status, StatusTransition

    statuses = db.session.scalars(select(Status)).all()
    transitions = db.session.scalars(select(StatusTransition)).all()
    return StatusTable(
        open_codes=frozenset(s.code for s in statuses if s.is_open),
        names={s.code: s.name for s in statuses},
        notify=frozenset(s.code for s in statuses if s.notify_residents),
        moves={(t.from_code, t.to_code): t.requires_note for t in transitions},
    )


def status_is_open(code: str) -> bool:
    return code in load_open_codes()


def load_open_codes() -> frozenset[str]:
    from meldingen.reports.models import Status

    return frozenset(db.session.scalars(select(Status.code).where(Status.is_open)).all())


def install_default_statuses() -> None:
    """Add the default statuses and transitions that are missing; administrators' changes are kept."""
    from meldingen.reports.models import Status, StatusTransition

    existing = {s.code for s in db.session.scalars(select(Status))}
    for position, (code, name, name_en, is_open, notify) in enumerate(DEFAULT_STATUSES):
        if code not in existing:
            db.session.add(
                Status(code=code, name=name, name_en=name_en, is_open=is_open, notify_residents=notify,
                       position=position)
            )
    db.session.flush()
    moves = {(t.from_code, t.to_code) for t in db.session.scalars(select(StatusTransition))}
    for frm, to, needs_note in DEFAULT_TRANSITIONS:
        if (frm, to) not in moves:
            db.session.add(StatusTransition(from_code=frm, to_code=to, requires_note=needs_note))
    db.session.flush()
