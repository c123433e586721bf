"""Routing rules as data: an ordered list of conditions → organisation and department, first match wins.

Pure functions over plain data. `meldingen.routing.services` loads the rules from the database, builds the
context from a report and writes the decision to the report's history.

A rule's conditions are all optional; an absent or empty condition matches anything. All present conditions
must hold:

    main_slugs, sub_slugs        the report's main / sub category slug is one of these
    organisation_codes           the organisation whose area holds the point (the municipality) is one of these
    area_codes                   one of the report's areas (municipality, district, neighbourhood) is one of these
    asset_types                  the nearest asset's type is one of these
    weekdays                     local weekday, 0 = Monday … 6 = Sunday (names "mon".."sun" / "ma".."zo" accepted)
    time_from, time_to           local time window "HH:MM"; from inclusive, until exclusive; a window whose end
                                 is before its start crosses midnight ("22:00"–"06:00"). Weekdays are those of
                                 the moment itself, so Saturday 02:00 is a Saturday.

A rule's target: `organisation_code` (None: the organisation whose area holds the point, which is how one
shared service point routes each report to the municipality it lies in) and `department_code` (None: the
category's responsible department).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from meldingen.timeutil import local_zone

CONDITION_KEYS = (
    "main_slugs",
    "sub_slugs",
    "organisation_codes",
    "area_codes",
    "asset_types",
    "weekdays",
    "time_from",
    "time_to",
)
_DAY_NAMES = {
    **{name: i for i, name in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])},
    **{name: i for i, name in enumerate(["ma", "di", "wo", "do", "vr", "za", "zo"])},
    **{name: i for i, name in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])},
}


class RuleError(ValueError):
    """A rule's conditions or target are not valid; the message says which and why."""


@dataclass(frozen=True)
class RoutingContext:
    """What routing looks at, taken from a report (or a draft) by the services layer."""

    at: datetime
    main_slug: str | None = None
    sub_slug: str | None = None
    organisation_code: str | None = None  # the organisation whose area holds the point
    area_codes: frozenset[str] = frozenset()
    asset_type: str | None = None
    fallback_department_code: str | None = None  # the category's responsible department
    fallback_organisation_code: str | None = None  # when the point lies in no served organisation

    @property
    def local_time(self) -> datetime:
        at = self.at if self.at.tzinfo else self.at.replace(tzinfo=UTC)
        return at.astimezone(local_zone())


@dataclass(frozen=True)
class Rule:
    id: int | str | None
    organisation_code: str | None = None
    department_code: str | None = None
    main_slugs: frozenset[str] = frozenset()
    sub_slugs: frozenset[str] = frozenset()
    organisation_codes: frozenset[str] = frozenset()
    area_codes: frozenset[str] = frozenset()
    asset_types: frozenset[str] = frozenset()
    weekdays: frozenset[int] = frozenset()
    time_from: time | None = None
    time_to: time | None = None
    name: str = ""

    @classmethod
    def from_data(
        cls,
        conditions: Mapping | None,
        *,
        id=None,
        organisation_code=None,
        department_code=None,
        name: str = "",
    ) -> Rule:
        """A rule from its stored form (conditions as a JSON object); raises RuleError when invalid."""
        conditions = dict(conditions or {})
        unknown = sorted(set(conditions) - set(CONDITION_KEYS))
        if unknown:
            raise RuleError(f"unknown condition(s): {', '.join(unknown)}; known: {', '.join(CONDITION_KEYS)}")
        if not organisation_code and not department_code:
            raise RuleError("a rule needs an organisation_code, a department_code or both")
        time_from = _parse_time(conditions.get("time_from"), "time_from")
        time_to = _parse_time(conditions.get("time_to"), "time_to")
        if (time_from is None) != (time_to is None):
            raise RuleError("time_from and time_to go together")
        if time_from is not None and time_from == time_to:
            raise RuleError("time_from and time_to must differ")
        return cls(
            id=id,
            organisation_code=organisation_code or None,
            department_code=department_code or None,
            main_slugs=_string_set(conditions, "main_slugs"),
            sub_slugs=_string_set(conditions, "sub_slugs"),
            organisation_codes=_string_set(conditions, "organisation_codes"),
            area_codes=_string_set(conditions, "area_codes"),
            asset_types=_string_set(conditions, "asset_types"),
            weekdays=_weekday_set(conditions.get("weekdays")),
            time_from=time_from,
            time_to=time_to,
            name=name or "",
        )

    @classmethod
    def coerce(cls, rule) -> Rule:
        """A Rule from a Rule, a mapping ({"id", "conditions", "organisation_code", "department_code"}) or an
        object with those attributes (a database row)."""
        if isinstance(rule, Rule):
            return rule
        get = rule.get if isinstance(rule, Mapping) else (lambda key, default=None: getattr(rule, key, default))
        return cls.from_data(
            get("conditions"),
            id=get("id"),
            organisation_code=get("organisation_code"),
            department_code=get("department_code"),
            name=get("name") or "",
        )

    def matches(self, context: RoutingContext) -> bool:
        if self.main_slugs and context.main_slug not in self.main_slugs:
            return False
        if self.sub_slugs and context.sub_slug not in self.sub_slugs:
            return False
        if self.organisation_codes and context.organisation_code not in self.organisation_codes:
            return False
        if self.area_codes and not (self.area_codes & context.area_codes):
            return False
        if self.asset_types and context.asset_type not in self.asset_types:
            return False
        if self.weekdays or self.time_from is not None:
            local = context.local_time
            if self.weekdays and local.weekday() not in self.weekdays:
                return False
            if self.time_from is not None and not _in_window(local.time(), self.time_from, self.time_to):
                return False
        return True

    def conditions(self) -> dict:
        """The conditions in their stored (JSON) form, empty ones left out."""
        data: dict = {}
        for key in ("main_slugs", "sub_slugs", "organisation_codes", "area_codes", "asset_types"):
            if getattr(self, key):
                data[key] = sorted(getattr(self, key))
        if self.weekdays:
            data["weekdays"] = sorted(self.weekdays)
        if self.time_from is not None:
            data["time_from"] = self.time_from.strftime("%H:%M")
            data["time_to"] = self.time_to.strftime("%H:%M")
        return data


@dataclass(frozen=True)
class RoutingDecision:
    organisation_code: str | None
    department_code: str | None
    rule_id: int | str | None  # None: no rule matched, the category's department was used
    reason: str = field(default="")

    @property
    def by_rule(self) -> bool:
        return self.rule_id is not None


def decide_route(rules: Iterable, context: RoutingContext) -> RoutingDecision:
    """The first rule (in the given order) whose conditions hold decides; otherwise the fallback.

    Rules that are not valid are skipped, so one bad rule never stops routing; the API refuses to store them.
    """
    home = context.organisation_code or context.fallback_organisation_code
    for raw in rules:
        try:
            rule = Rule.coerce(raw)
        except RuleError:
            continue
        if rule.matches(context):
            label = f"rule {rule.id}" + (f" ({rule.name})" if rule.name else "")
            return RoutingDecision(
                organisation_code=rule.organisation_code or home,
                department_code=rule.department_code or context.fallback_department_code,
                rule_id=rule.id,
                reason=f"routed by {label}",
            )
    return RoutingDecision(
        organisation_code=home,
        department_code=context.fallback_department_code,
        rule_id=None,
        reason="no routing rule matched; the category's responsible department",
    )


def _string_set(conditions: Mapping, key: str) -> frozenset[str]:
    value = conditions.get(key)
    if value in (None, "", []):
        return frozenset()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset) or not all(isinstance(v, str) and v for v in value):
        raise RuleError(f"{key} must be a list of non-empty strings")
    return frozenset(value)


def _weekday_set(value) -> frozenset[int]:
    if value in (None, "", []):
        return frozenset()
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset):
        raise RuleError("weekdays must be 0 (Monday) … 6 (Sunday) or day names, or a list of them")
    days = set()
    for day in value:
        if isinstance(day, bool):
            raise RuleError("weekdays must be 0 (Monday) … 6 (Sunday) or day names")
        if isinstance(day, int) and 0 <= day <= 6:
            days.add(day)
        elif isinstance(day, str) and day.strip().lower() in _DAY_NAMES:
            days.add(_DAY_NAMES[day.strip().lower()])
        else:
            raise RuleError(f"weekdays: {day!r} is not 0 (Monday) … 6 (Sunday) or a day name")
    return frozenset(days)


def _parse_time(value, key: str) -> time | None:
    if value in (None, ""):
        return None
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise RuleError(f"{key} must be HH:MM, got {value!r}") from exc


def _in_window(moment: time, start: time, end: time) -> bool:
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # crosses midnight


# --- rules that never fire ---------------------------------------------------------------------------------

def covers(earlier: Rule, later: Rule, main_of_sub: Mapping[str, frozenset[str]] | None = None) -> bool:
    """Does every report `later` matches also match `earlier`? Then `later` never fires behind it.

    Condition by condition: the earlier rule's condition is absent, or the later one's is a subset of it (a
    later rule on sub categories is covered by an earlier one on their main categories, given `main_of_sub`:
    sub slug → the main slugs it lies under). Cautious: where it cannot tell, it says no, so a warning is
    always true.
    """
    main_of_sub = main_of_sub or {}

    def subset(key: str) -> bool:
        mine, theirs = getattr(later, key), getattr(earlier, key)
        return not theirs or (bool(mine) and mine <= theirs)

    if earlier.main_slugs and not subset("main_slugs"):
        subs = later.sub_slugs
        if not subs or not all(main_of_sub.get(s) and main_of_sub[s] <= earlier.main_slugs for s in subs):
            return False
    if not all(subset(key) for key in ("sub_slugs", "organisation_codes", "area_codes", "asset_types",
                                        "weekdays")):
        return False
    if earlier.time_from is not None and earlier.time_to is not None:
        if later.time_from is None or later.time_to is None:
            return False
        e_from, e_to, l_from, l_to = earlier.time_from, earlier.time_to, later.time_from, later.time_to
        same = (l_from, l_to) == (e_from, e_to)
        inside = e_from < e_to and l_from < l_to and e_from <= l_from and l_to <= e_to
        if not (same or inside):
            return False
    return True


def shadowed_rules(rules: Iterable, main_of_sub: Mapping[str, frozenset[str]] | None = None) -> dict:
    """{id of a rule that never fires: the earlier rule that takes all its reports}, over rules in their order
    (first match wins). Rules that are not valid are left out, as routing skips them."""
    checked: list[Rule] = []
    for raw in rules:
        try:
            checked.append(Rule.coerce(raw))
        except RuleError:
            continue
    found = {}
    for i, later in enumerate(checked):
        for earlier in checked[:i]:
            if covers(earlier, later, main_of_sub):
                found[later.id] = earlier
                break
    return found
