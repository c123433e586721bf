"""Administrators: the subscriptions of their organisations' systems to report events (Standard Webhooks) — each
with its events and last delivery — made (secret shown once) and removed, and the deliveries that kept failing
(parked), with retry and dismiss."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from meldingen import authz
from meldingen.extensions import db
from meldingen.staff.roles import action_required, is_service_point_staff
from meldingen.staff.views import bp
from meldingen.staff.views.admin import SECTIONS, _back, _organisations, _own_organisation
from meldingen.subscriptions import delivery
from meldingen.subscriptions.models import EVENT_TYPES, WebhookDelivery
from meldingen.subscriptions.services import SubscriptionError, subscribe, subscriptions_of, unsubscribe

EVENT_NAMES = {"report.created": "nieuwe melding", "report.status_changed": "status veranderd",
               "report.merged": "melding samengevoegd", "report.category_changed": "categorie veranderd"}


def _render(**context):
    org_ids = authz.acting_organisation_ids(current_user)
    subscriptions = subscriptions_of(org_ids)
    waiting = dict(db.session.execute(
        select(WebhookDelivery.subscription_id, func.count()).where(
            WebhookDelivery.state.in_(("queued", "sending")),
            WebhookDelivery.subscription_id.in_([s.id for s in subscriptions] or [0]))
        .group_by(WebhookDelivery.subscription_id)).all())
    return render_template("staff/admin/subscriptions.html", sections=SECTIONS,
                           shared=is_service_point_staff(current_user), subscriptions=subscriptions, waiting=waiting,
                           parked=delivery.parked(org_ids), organisations=_organisations(), event_types=EVENT_TYPES,
                           event_names=EVENT_NAMES, **context)


def _own_delivery(delivery_id: int) -> WebhookDelivery:
    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None or row.subscription.organisation_id not in authz.acting_organisation_ids(current_user):
        abort(404)
    return row


@bp.get("/admin/subscriptions")
@action_required("administer")
def admin_subscriptions():
    return _render()


@bp.post("/admin/subscriptions")
@action_required("administer")
def admin_subscription_create():
    organisation = _own_organisation(request.form.get("organisation", ""))
    events = [e for e in request.form.getlist("events") if e in EVENT_TYPES] or list(EVENT_TYPES)
    try:
        subscription, secret = subscribe(organisation.code, request.form.get("url") or "", events)
    except SubscriptionError as exc:
        return _back("staff.admin_subscriptions", error=f"Koppeling niet gemaakt: {exc}")
    db.session.commit()
    return _render(new_secret=secret, new_secret_for=f"koppeling {subscription.id} naar {subscription.url}"), 201


@bp.post("/admin/subscriptions/<int:subscription_id>/remove")
@action_required("administer")
def admin_subscription_remove(subscription_id: int):
    try:
        subscription = unsubscribe(subscription_id, authz.acting_organisation_ids(current_user))
    except SubscriptionError:
        abort(404)
    db.session.commit()
    return _back("staff.admin_subscriptions", f"Koppeling {subscription_id} naar {subscription.url} verwijderd.")


@bp.post("/admin/subscriptions/deliveries/<int:delivery_id>/retry")
@action_required("administer")
def admin_delivery_retry(delivery_id: int):
    row = _own_delivery(delivery_id)
    if row.state == "parked":
        delivery.requeue(row)
        db.session.commit()  # the attempt is handed to the workers by this commit
    return _back("staff.admin_subscriptions", "Opnieuw gestart.")


@bp.post("/admin/subscriptions/deliveries/<int:delivery_id>/dismiss")
@action_required("administer")
def admin_delivery_dismiss(delivery_id: int):
    row = _own_delivery(delivery_id)
    if row.state == "parked":
        delivery.dismiss(row)
        db.session.commit()
    return _back("staff.admin_subscriptions", "Afgesloten.")


