"""Imports every model module, so the metadata is complete for migrations and relationships."""

from meldingen.audit.models import AuditEntry  # noqa: F401
from meldingen.categories.models import Category, CategoryOverride  # noqa: F401
from meldingen.classify.models import TrainingExample  # noqa: F401
from meldingen.geo.models import Address, Area, Asset  # noqa: F401
from meldingen.notify.models import (
    ReplyTemplate,  # noqa: F401
)
from meldingen.organisations.models import Department, Organisation  # noqa: F401
from meldingen.routing.models import RoutingRule  # noqa: F401
