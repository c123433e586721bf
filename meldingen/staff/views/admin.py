"""Administrators: categories, departments, routing rules, reply templates, area and asset imports, channels and
staff accounts. Things every organisation shares (the category tree, areas, the default texts) are kept by the
service point's administrators; an organisation's own administrator keeps its departments, rules, texts,
channels and accounts."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from meldingen.accounts.models import ROLES, StaffUser
from meldingen.categories.models import Category
from meldingen.channels.adapters import kinds as channel_kinds
from meldingen.channels.models import Channel
from meldingen.extensions import db
from meldingen.notify.models import ReplyTemplate
from meldingen.organisations.models import Department, Organisation
from meldingen.reports.access import visible_organisation_ids
from meldingen.staff.admin_forms import FormRefused, parse_handling_days
from meldingen.staff.roles import ROLE_NAMES, action_required, is_service_point_staff
from meldingen.staff.views import bp
from meldingen.web.errors import db_int

SECTIONS = [
    ("staff.admin_categories", "Categorieën"),
    ("staff.admin_departments", "Afdelingen"),
    ("staff.admin_rules", "Routeringsregels"),
    ("staff.admin_templates", "Antwoordteksten"),
    ("staff.admin_standard_texts", "Standaardteksten"),
    ("staff.admin_questions", "Vragen en openingstijden"),
    ("staff.admin_imports", "Gebieden en objecten"),
    ("staff.admin_channels", "Kanalen"),
    ("staff.admin_accounts", "Medewerkers"),
    ("staff.admin_credentials", "Sleutels"),
    ("audit.audit_log", "Auditlog"),
    ("staff.admin_stuck", "Vastgelopen werk"),
    ("staff.admin_subscriptions", "Koppelingen"),
]


def mask_secret(value) -> str:
    """A secret shown as its last four characters only: ••••1234 (short ones fully hidden)."""
    text = str(value or "")
    if not text:
        return ""
    return "••••" + (text[-4:] if len(text) >= 12 else "")


def _organisations() -> list[Organisation]:
    return db.session.scalars(select(Organisation).where(Organisation.id.in_(visible_organisation_ids(current_user)))
                              .order_by(Organisation.kind.desc(), Organisation.name)).all()


def _own_organisation(code: str) -> Organisation:
    org = next((o for o in _organisations() if o.code == code), None)
    if org is None:
        abort(403)
    return org


def _require_service_point():
    if not is_service_point_staff(current_user):
        abort(403)


def _back(endpoint: str, message: str | None = None, error: str | None = None):
    if message:
        flash(message)
    if error:
        flash(error, "error")
    return redirect(url_for(endpoint)), 303


def _render(template: str, **context):
    return render_template(f"staff/admin/{template}", sections=SECTIONS, shared=is_service_point_staff(current_user),
                           **context)


@bp.get("/admin")
@action_required("administer")
def admin_home():
    """The overview, with the open work of the organisations the administrator keeps (its first screen)."""
    from meldingen.staff.backlog import BacklogFilter, backlog_aggregates

    return _render("index.html", organisations=_organisations(),
                   work=backlog_aggregates(current_user, BacklogFilter()))


# --- categories --------------------------------------------------------------------------------------------

@bp.get("/admin/categories")
@action_required("administer")
def admin_categories():
    mains = db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                               .order_by(Category.position, Category.name)).all()
    departments = department_choices()
    return _render("categories.html", mains=mains, departments=departments,
                   department_codes={code for code, _name in departments})


@bp.post("/admin/categories")
@action_required("edit_categories")
def admin_category_create():
    _require_service_point()
    parent_id = db_int(request.form.get("parent_id")) if request.form.get("parent_id") else None
    parent = db.session.get(Category, parent_id) if parent_id else None
    if parent_id and (parent is None or parent.parent_id is not None):
        abort(400)
    name = (request.form.get("name") or "").strip()
    slug = (request.form.get("slug") or "").strip().lower()
    if not name or not slug or not slug.replace("-", "").isalnum():
        return _back("staff.admin_categories", error="Geef een naam en een slug (letters, cijfers, streepjes).")
    if db.session.scalar(select(Category.id).where(Category.parent_id == parent_id, Category.slug == slug)):
        return _back("staff.admin_categories", error=f"De slug {slug} bestaat al.")
    category = Category(name=name[:200], slug=slug[:100], active=True,
                        position=len(parent.children) if parent else 0, department_codes=[])
    try:
        _apply_category_form(category)
    except FormRefused as exc:
        return _back("staff.admin_categories", error=f"Categorie niet toegevoegd. {exc}")
    category.parent = parent
    db.session.add(category)
    db.session.commit()
    return _back("staff.admin_categories", f"Categorie {name} toegevoegd.")


@bp.post("/admin/categories/<int:category_id>")
@action_required("edit_categories")
def admin_category_update(category_id: int):
    _require_service_point()
    category = db.session.get(Category, category_id) or abort(404)
    name = (request.form.get("name") or "").strip()
    if name:
        category.name = name[:200]
    try:
        _apply_category_form(category)
    except FormRefused as exc:
        db.session.rollback()
        return _back("staff.admin_categories", error=f"{category.name} niet opgeslagen. {exc}")
    db.session.commit()
    return _back("staff.admin_categories", f"Categorie {category.name} opgeslagen.")


def _apply_category_form(category: Category) -> None:
    """Raises FormRefused (Dutch) for handling days that are not a whole number from 0; nothing is kept then."""
    category.handling_days = parse_handling_days(request.form.get("handling_days"))
    category.calendar_days = request.form.get("calendar_days") == "1"
    category.active = request.form.get("active") == "1"
    text = (request.form.get("resident_text") or "").strip()
    category.resident_text = text[:2000] or None
    if "department_codes" in request.form or request.form.get("department_codes_shown"):
        # Picked from a list (several may be chosen); a comma-separated text is read the same way.
        codes = [c.strip().upper() for value in request.form.getlist("department_codes") for c in value.split(",")]
        category.department_codes = list(dict.fromkeys(c for c in codes if c))


def department_choices() -> list[tuple[str, str]]:
    """(code, name) of the departments of the organisations the administrator acts for, one per code."""
    rows = db.session.execute(select(Department.code, Department.name)
                              .where(Department.organisation_id.in_(visible_organisation_ids(current_user)))
                              .order_by(Department.code, Department.name)).all()
    return list({code: (code, name) for code, name in rows}.values())


# --- departments -------------------------------------------------------------------------------------------

DEPARTMENTS_PAGE_SIZE = 25


@bp.get("/admin/departments")
@action_required("edit_departments")
def admin_departments():
    """One organisation's departments at a time, searchable by code or name, a page of 25 at a time."""
    organisations = _organisations()
    chosen = next((o for o in organisations if o.code == request.args.get("organisatie")),
                  next((o for o in organisations if o.id == current_user.organisation_id), None)
                  or (organisations[0] if organisations else None))
    query = (request.args.get("q") or "").strip()[:100]
    page = db_int(request.args.get("page") or 1, low=1, high=100_000)
    departments, pages, total = [], 1, 0
    if chosen is not None:
        found = [d for d in chosen.departments
                 if not query or query.lower() in d.code.lower() or query.lower() in d.name.lower()]
        total = len(found)
        pages = max(1, -(-total // DEPARTMENTS_PAGE_SIZE))
        departments = found[(page - 1) * DEPARTMENTS_PAGE_SIZE: page * DEPARTMENTS_PAGE_SIZE]
    return _render("departments.html", organisations=organisations, chosen=chosen, departments=departments,
                   query=query, page=page, pages=pages, total=total)


@bp.post("/admin/departments")
@action_required("edit_departments")
def admin_department_save():
    org = _own_organisation(request.form.get("organisation", ""))
    code = (request.form.get("code") or "").strip().upper()[:16]
    name = (request.form.get("name") or "").strip()[:200]
    if not code or not name:
        return _back("staff.admin_departments", error="Geef een code en een naam.")
    if not code.replace("-", "").isalnum():
        return _back("staff.admin_departments", error="Een afdelingscode bestaat uit letters en cijfers, bijv. STW.")
    department = db.session.scalar(select(Department).where(Department.organisation_id == org.id,
                                                            Department.code == code))
    if department is None:
        db.session.add(Department(organisation=org, code=code, name=name))
        message = f"Afdeling {code} toegevoegd aan {org.name}."
    else:
        department.name = name
        message = f"Afdeling {code} van {org.name} opgeslagen."
    db.session.commit()
    flash(message)
    return redirect(url_for("staff.admin_departments", organisatie=org.code)), 303


# --- reply templates ---------------------------------------------------------------------------------------

def _editable_template_orgs() -> list[int | None]:
    ids: list[int | None] = [o.id for o in _organisations()]
    if is_service_point_staff(current_user):
        ids.append(None)  # the default texts
    return ids


@bp.get("/admin/templates")
@action_required("edit_templates")
def admin_templates():
    allowed = _editable_template_orgs()
    templates = [t for t in db.session.scalars(select(ReplyTemplate).order_by(ReplyTemplate.key,
                                                                                ReplyTemplate.language))
                 if t.organisation_id in allowed]
    orgs = {o.id: o for o in _organisations()}
    from meldingen.notify.templates import DEFAULT_TEMPLATES
    from meldingen.staff.words import LANGUAGE_NAMES, reply_text_name

    keys = sorted(set(DEFAULT_TEMPLATES) | {t.key for t in templates}, key=reply_text_name)
    return _render("templates.html", templates=templates, orgs=orgs, keys=keys, text_name=reply_text_name,
                   language_names=LANGUAGE_NAMES)


@bp.post("/admin/templates")
@action_required("edit_templates")
def admin_template_save():
    template_id = db_int(request.form.get("id")) if request.form.get("id") else None
    body = (request.form.get("body") or "").strip()
    if not body:
        return _back("staff.admin_templates", error="Een antwoordtekst mag niet leeg zijn.")
    if template_id:
        template = db.session.get(ReplyTemplate, template_id) or abort(404)
        if template.organisation_id not in _editable_template_orgs():
            abort(403)
        template.body = body[:4000]
    else:
        code = request.form.get("organisation") or ""
        org_id = _own_organisation(code).id if code else None
        if org_id not in _editable_template_orgs():
            abort(403)
        key = (request.form.get("key") or "").strip()[:100]
        language = (request.form.get("language") or "nl").strip()[:5]
        if not key:
            return _back("staff.admin_templates", error="Geef de sleutel van de tekst.")
        existing = db.session.scalar(select(ReplyTemplate).where(
            ReplyTemplate.key == key, ReplyTemplate.language == language, ReplyTemplate.organisation_id == org_id))
        if existing is not None:
            existing.body = body[:4000]
        else:
            db.session.add(ReplyTemplate(key=key, language=language, organisation_id=org_id, body=body[:4000]))
    db.session.commit()
    return _back("staff.admin_templates", "Antwoordtekst opgeslagen.")


# --- area and asset imports --------------------------------------------------------------------------------

@bp.get("/admin/imports")
@action_required("administer")
def admin_imports():
    return _render("imports.html", result=None)


@bp.post("/admin/imports")
@action_required("import_geodata")
def admin_import_run():
    from meldingen.geo.imports import ImportFileError, import_areas, import_assets

    _require_service_point()
    upload = request.files.get("file")
    kind = request.form.get("kind")
    if upload is None or not upload.filename or kind not in ("areas", "assets"):
        return _back("staff.admin_imports", error="Kies een bestand en wat het bevat.")
    form = request.form
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("upload.geojson" if kind == "areas" else "upload.csv")
        upload.save(path)
        try:
            if kind == "areas":
                level = form.get("level")
                if level not in ("municipality", "district", "neighbourhood"):
                    abort(400)
                result = import_areas(path, level, form.get("code_property") or "code",
                                      form.get("name_property") or "name", form.get("parent_property") or None)
            else:
                result = import_assets(path, (form.get("asset_type") or "").strip() or "object",
                                       form.get("id_column") or "id", form.get("lat_column") or "lat",
                                       form.get("lon_column") or "lon")
        except ImportFileError as exc:
            db.session.rollback()
            return _back("staff.admin_imports", error=f"Import mislukt: {exc}")
    db.session.commit()
    if kind == "areas":  # the map's outlines are read again, now that the new ones are committed
        from meldingen.staff.mapdata import _outlines_for

        _outlines_for.cache_clear()
    return _render("imports.html", result=result, kind=kind)


# --- channels ----------------------------------------------------------------------------------------------

def _visible_channels():
    ids = visible_organisation_ids(current_user)
    query = select(Channel).order_by(Channel.kind, Channel.name)
    channels = db.session.scalars(query).all()
    shared = is_service_point_staff(current_user)
    return [c for c in channels if c.organisation_id in ids or (shared and c.organisation_id is None)]


@bp.get("/admin/channels")
@action_required("edit_channels")
def admin_channels():
    return _render("channels.html", channels=_visible_channels(), kinds=channel_kinds(), mask=mask_secret,
                   organisations=_organisations())


@bp.post("/admin/channels")
@bp.post("/admin/channels/<int:channel_id>")
@action_required("edit_channels")
def admin_channel_save(channel_id: int | None = None):
    form = request.form
    code = form.get("organisation") or ""
    organisation_id = _own_organisation(code).id if code else None
    if channel_id is not None:
        channel = next((c for c in _visible_channels() if c.id == channel_id), None) or abort(404)
        if code:
            channel.organisation_id = organisation_id
    else:
        if form.get("kind") not in channel_kinds():
            return _back("staff.admin_channels", error="Kies het soort kanaal.")
        if organisation_id is None and not is_service_point_staff(current_user):
            abort(403)
        channel = Channel(kind=form["kind"], secrets={}, settings={}, organisation_id=organisation_id)
    channel.name = (form.get("name") or channel.name or channel.kind).strip()[:200]
    channel.address = (form.get("address") or channel.address or "").strip()[:100]
    if not channel.address:
        db.session.rollback()
        return _back("staff.admin_channels", error="Geef het adres van het kanaal (nummer-id, bot-id of nummer).")
    channel.active = form.get("active") == "1"
    secrets = dict(channel.secrets or {})
    for line in (form.get("secrets") or "").splitlines():  # "name=value"; an empty value leaves it as it was
        name, _, value = line.partition("=")
        if name.strip() and value.strip():
            secrets[name.strip()] = value.strip()
    channel.secrets = secrets
    taken = _channel_address_taken(channel)
    if taken:
        db.session.rollback()
        return _back("staff.admin_channels", error=taken)
    db.session.add(channel)
    try:
        db.session.commit()
    except IntegrityError:  # another administrator saved the same address a moment ago
        db.session.rollback()
        return _back("staff.admin_channels", error=_TAKEN)
    return _back("staff.admin_channels", f"Kanaal {channel.name} opgeslagen.")


_TAKEN = "Dit soort kanaal met dit adres bestaat al. Pas dat kanaal aan in plaats van een nieuw te maken."


def _channel_address_taken(channel: Channel) -> str | None:
    """One channel per (kind, address): the webhooks find a channel by them."""
    with db.session.no_autoflush:
        other = db.session.scalar(select(Channel.id).where(Channel.kind == channel.kind,
                                                            Channel.address == channel.address))
    return _TAKEN if other is not None and other != channel.id else None


# --- staff accounts ----------------------------------------------------------------------------------------

@bp.get("/admin/accounts")
@action_required("manage_accounts")
def admin_accounts():
    organisations = _organisations()
    accounts = db.session.scalars(select(StaffUser).where(StaffUser.organisation_id.in_([o.id for o in organisations]))
                                  .order_by(StaffUser.email)).all()
    return _render("accounts.html", accounts=accounts, organisations=organisations, roles=ROLES,
                   role_names=ROLE_NAMES, departments=department_choices())


@bp.post("/admin/accounts")
@action_required("manage_accounts")
def admin_account_create():
    from meldingen.staff.services import StaffError, create_staff

    org = _own_organisation(request.form.get("organisation", ""))
    try:
        user = create_staff(request.form.get("email", ""), request.form.get("role", ""), org.code,
                            (request.form.get("department") or "").strip().upper() or None,
                            request.form.get("password", ""), name=(request.form.get("name") or "").strip() or None)
    except StaffError as exc:
        db.session.rollback()
        return _back("staff.admin_accounts", error=f"Account niet aangemaakt: {exc.dutch}.")
    db.session.commit()
    return _back("staff.admin_accounts", f"Account {user.email} aangemaakt.")


@bp.post("/admin/accounts/<int:user_id>/active")
@action_required("manage_accounts")
def admin_account_active(user_id: int):
    user = db.session.get(StaffUser, user_id)
    if user is None or user.organisation_id not in visible_organisation_ids(current_user):
        abort(404)
    if user.id == current_user.id:
        return _back("staff.admin_accounts", error="U kunt uw eigen account niet uitschakelen.")
    user.active = request.form.get("active") == "1"
    if not user.active:
        user.end_sessions()  # a deactivated account is signed out everywhere at once
    db.session.commit()
    return _back("staff.admin_accounts", f"Account {user.email} {'ingeschakeld' if user.active else 'uitgeschakeld'}.")
