"""Imports every model module, so the metadata is complete for migrations and relationships."""

from meldingen.audit.models import AuditEntry  # noqa: F401

from meldingen.categories.models import Category, CategoryOverride  # noqa: F401
from meldingen.channels.models import Channel, InboundEvent, OutboundMessage  # noqa: F401
from meldingen.classify.models import TrainingExample  # noqa: F401
from meldingen.geo.models import Address, Area, Asset  # noqa: F401
from meldingen.intake.models import Conversation, ConversationMessage  # noqa: F401
from meldingen.notify.models import ReplyTemplate  # noqa: F401
from meldingen.organisations.models import Department, Organisation  # noqa: F401
from meldingen.reports.models import (  # noqa: F401
    DuplicateCandidate,
    Photo,
    Report,
    ReportEvent,
    ReportSubscription,
    Reporter,
    Status,
    StatusTransition,
)
from meldingen.routing.models import RoutingRule  # noqa: F401
from meldingen.staff.models import ApiToken, Open311ApiKey, StaffUser  # noqa: F401
