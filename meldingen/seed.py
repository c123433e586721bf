"""Loading the sample data in sample_data/: organisations, categories, statuses, routing rules, areas, addresses.

Idempotent: running it twice changes nothing the second time; what administrators changed is kept. Loading
flushes; the command that loads (`meldingen load-sample-data`) commits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from meldingen import signals
from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.geo import imports
from meldingen.geo.models import Address, Area, Asset
from meldingen.organisations.models import Department, Organisation
from meldingen.reports.statuses import install_default_statuses
from meldingen.routing.models import RoutingRule

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"

# Duplicate matching defaults for the sample tree: fixed objects match close by (and by asset), spread-out
# problems (dumping, nuisance) further apart. (distance m, window days, use assets)
DEDUP_DEFAULTS = {
    "straatverlichting-openbare-klok": (25.0, 84, True),
    "klok": (25.0, 84, True),
    "verkeerslicht": (30.0, 84, True),
    "container-is-vol": (25.0, 14, True),
    "container-is-kapot": (25.0, 84, True),
    "container-voor-plastic-afval-is-vol": (25.0, 14, True),
    "container-voor-plastic-afval-is-kapot": (25.0, 84, True),
    "prullenbak-is-vol": (20.0, 7, True),
    "prullenbak-is-kapot": (20.0, 84, True),
    "boom": (15.0, 84, True),
    "onderhoud-stoep-straat-en-fietspad": (20.0, 84, False),
    "grofvuil": (40.0, 14, False),
    "veeg-zwerfvuil": (40.0, 14, False),
}
DEFAULT_DEDUP = (30.0, 84, False)

# Sub categories residents mix up for one problem: a report of one may be a duplicate of the other (symmetric).
DEDUP_RELATED = {
    "container-is-vol": ["container-voor-plastic-afval-is-vol", "huisafval"],
    "container-is-kapot": ["container-voor-plastic-afval-is-kapot"],
    "prullenbak-is-vol": ["veeg-zwerfvuil"],
    "grofvuil": ["huisafval", "bedrijfsafval"],
    "straatverlichting-openbare-klok": ["klok"],
    "vuurwerkoverlast": ["overlast-door-afsteken-vuurwerk"],
    "stankoverlast": ["stank-horecabedrijven"],
}

# Which registered objects a sub category is about (asset registers are imported with `meldingen import assets
# --type …`; these are the type names the sample uses).
ASSET_TYPES = {
    "straatverlichting-openbare-klok": ["street_light"],
    "klok": ["clock", "street_light"],
    "verkeerslicht": ["traffic_light"],
    "container-is-vol": ["container"],
    "container-is-kapot": ["container"],
    "container-voor-plastic-afval-is-vol": ["container"],
    "container-voor-plastic-afval-is-kapot": ["container"],
    "prullenbak-is-vol": ["litter_bin"],
    "prullenbak-is-kapot": ["litter_bin"],
    "boom": ["tree"],
    "maaien-snoeien": ["tree"],
    "fietsrek-nietje": ["bicycle_rack"],
    "speelplaats": ["playground"],
    "put-riolering-verstopt": ["drain"],
}


# Categories about a person (people causing nuisance, neighbours, a business's visitors): their public text
# loses house numbers too and their public point is coarser (privacy/public.py). Main slugs cover their subs.
PERSON_RELATED = {"overlast-van-en-door-personen-of-groepen", "overlast-bedrijven-en-horeca", "stank-geluidsoverlast"}


def load_organisations(data: dict) -> None:
    sp = data["service_point"]
    service_point = _upsert_organisation(sp["code"], sp["name"], sp["kind"], sp.get("departments", []))
    for item in data["organisations"]:
        org = _upsert_organisation(item["code"], item["name"], item["kind"], item.get("departments", []))
        if org.service_point_id is None:
            org.service_point_id = service_point.id
    db.session.flush()


def _upsert_organisation(code: str, name: str, kind: str, departments: list[dict]) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        org = Organisation(code=code, name=name, kind=kind, settings={})
        db.session.add(org)
        db.session.flush()
    have = {d.code for d in org.departments}
    for dept in departments:
        if dept["code"] not in have:
            db.session.add(Department(organisation_id=org.id, code=dept["code"], name=dept["name"]))
    db.session.flush()
    return org


def load_categories(tree: dict) -> None:
    messages = tree.get("handling_messages", {})
    for m_pos, main in enumerate(tree["main_categories"]):
        parent = _upsert_category(None, main, m_pos, messages)
        for s_pos, sub in enumerate(main["sub_categories"]):
            _upsert_category(parent, sub, s_pos, messages)
    db.session.flush()


def _upsert_category(parent: Category | None, item: dict, position: int, messages: dict) -> Category:
    parent_id = parent.id if parent is not None else None
    category = db.session.scalar(
        select(Category).where(Category.slug == item["slug"], Category.parent_id.is_(None) if parent is None
                               else Category.parent_id == parent_id)
    )
    if category is not None:
        _fill_shipped_texts(category, item, messages)
        return category  # administrators' edits win over the sample
    slo = item.get("slo") or {}
    distance, window, use_assets = DEDUP_DEFAULTS.get(item["slug"], DEFAULT_DEDUP)
    category = Category(
        parent_id=parent_id,
        slug=item["slug"],
        name=item["name"],
        name_en=item.get("name_en"),
        active=bool(item.get("is_active", True)),
        position=position,
        handling_days=slo.get("n_days"),
        calendar_days=bool(slo.get("use_calendar_days", False)),
        handling_code=item.get("handling"),
        resident_text=chat_handling_text(item.get("handling"), messages),
        department_codes=list(item.get("department_codes_inferred") or []),
        dedup_distance_m=distance if parent is not None else None,
        dedup_window_days=window if parent is not None else None,
        dedup_use_assets=use_assets if parent is not None else False,
        dedup_related_slugs=list(DEDUP_RELATED.get(item["slug"], [])) if parent is not None else [],
        asset_types=list(ASSET_TYPES.get(item["slug"], [])) if parent is not None else [],
        person_related=item["slug"] in PERSON_RELATED or (parent is not None and parent.slug in PERSON_RELATED),
    )
    db.session.add(category)
    db.session.flush()
    return category


def chat_handling_text(code: str | None, messages: dict) -> str | None:
    """What residents are told about handling, written for chat (Signalen's own text promises e-mail)."""
    from meldingen.notify.templates import HANDLING_TEXTS

    if not code:
        return None
    return (HANDLING_TEXTS.get(code) or {}).get("nl") or messages.get(code)


def _fill_shipped_texts(category: Category, item: dict, messages: dict) -> None:
    """Fill what an earlier sample left empty or shipped unchanged: the English name, and Signalen's e-mail
    handling text (replaced by the chat text only while it is still exactly the shipped one)."""
    if not category.name_en and item.get("name_en"):
        category.name_en = item["name_en"]
    code = item.get("handling")
    if code and category.resident_text and category.resident_text == messages.get(code):
        category.resident_text = chat_handling_text(code, messages)


def load_routing_rules(rules: list[dict]) -> None:
    if db.session.scalar(select(func.count()).select_from(RoutingRule)):
        return  # rules are the administrators' once they exist
    for position, rule in enumerate(rules):
        db.session.add(RoutingRule(position=position, name=rule["name"], conditions=rule["conditions"],
                                   organisation_code=rule.get("organisation_code"),
                                   department_code=rule.get("department_code"), active=True))
    db.session.flush()


def load_sample_data(sample_dir: Path = SAMPLE_DIR, progress: Callable | None = None,
                     echo: Callable[[str], None] = log.info) -> dict:
    """Load everything; `progress(items, label)` wraps long loops (a progress bar in the CLI)."""
    wrap = (lambda label: (lambda items: progress(items, label))) if progress else (lambda label: None)
    data = json.loads((sample_dir / "organisations.json").read_text(encoding="utf-8"))
    install_default_statuses()
    load_organisations(data)
    load_categories(json.loads((sample_dir / "categories" / "signalen_categories.json").read_text("utf-8")))
    load_routing_rules(data.get("routing_rules", []))
    load_reply_templates()
    db.session.flush()

    geo = sample_dir / "geodata"
    counts = {}
    steps = [
        ("municipality", geo / "gemeenten_2024.geojson", "gemeentecode", "gemeentenaam", None),
        ("district", geo / "wijken_2024_selectie.geojson", "wijkcode", "wijknaam", "gemeentecode"),
        ("neighbourhood", geo / "buurten_2024_emmen.geojson", "buurtcode", "buurtnaam", "wijkcode"),
    ]
    for level, path, code_p, name_p, parent_p in steps:
        have = db.session.scalar(select(func.count()).select_from(Area).where(Area.level == level))
        if have:
            counts[level] = have
            continue
        kwargs = {"progress": wrap(f"{level} areas")} if progress else {}
        result = imports.import_areas(path, level, code_p, name_p, parent_p,
                                      municipality_property="gemeentecode", **kwargs)
        counts[level] = result.loaded
        for line in result.skipped:
            echo(f"  skipped {line}")
    if not db.session.scalar(select(func.count()).select_from(Address)):
        kwargs = {"progress": wrap("addresses")} if progress else {}
        result = imports.import_addresses(geo / "adressen_amsterdam_bag_sample.csv", **kwargs)
        for line in result.skipped:
            echo(f"  skipped {line}")
    counts["addresses"] = db.session.scalar(select(func.count()).select_from(Address))
    counts["containers"] = load_example_containers(sample_dir / "assets" / "containers_amsterdam_example.csv", echo)
    # Later pieces (e.g. the classifier's first model) may prepare themselves now the sample data is in.
    signals.sample_data_loaded.send(current_app._get_current_object())
    db.session.flush()
    return counts


def load_example_containers(path: Path, echo: Callable[[str], None]) -> int:
    """The example container register (with fractions), while no container is registered yet."""
    have = db.session.scalar(select(func.count()).select_from(Asset).where(Asset.type == "container"))
    if have or not path.exists():
        return int(have or 0)
    result = imports.import_assets(path, "container", "containernummer", fraction_column="fractie")
    for line in result.skipped:
        echo(f"  skipped {line}")
    return result.loaded


def load_reply_templates() -> None:
    """The reply templates and staff's standard texts shipped with the outbox."""
    from meldingen.notify.standard_texts import install_default_standard_texts
    from meldingen.notify.templates import install_default_templates

    install_default_templates()

    install_default_standard_texts()
    load_question_answers_and_office_hours()


def load_question_answers_and_office_hours() -> None:
    """Answers (with links) to residents' questions that are not reports, and the general office hours."""
    from meldingen.notify.question_answers import install_default_answers
    from meldingen.organisations.hours import install_default_office_hours

    install_default_answers()
    install_default_office_hours()
