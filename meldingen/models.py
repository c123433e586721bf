"""Imports every model module, so the metadata is complete for migrations and relationships."""

from meldingen.accounts.models import ApiToken, IdempotencyKey, Open311ApiKey, SavedFilter, StaffUser  # noqa: F401
from meldingen.audit.models import AuditEntry  # noqa: F401
from meldingen.categories.models import Category, CategoryOverride  # noqa: F401
from meldingen.channels.models import Channel, InboundEvent  # noqa: F401
from meldingen.classify.models import TrainingExample  # noqa: F401
from meldingen.geo.models import Address, Area, Asset  # noqa: F401
from meldingen.media.models import Photo  # noqa: F401
from meldingen.notify.models import OutboundMessage, ReplyTemplate  # noqa: F401
from meldingen.organisations.models import Department, Organisation  # noqa: F401
from meldingen.reports.models import (  # noqa: F401
    DuplicateCandidate,
    Report,
    ReportEvent,
    ReportSubscription,
    RouteStop,
    Status,
    StatusTransition,
)
from meldingen.residents.models import Conversation, ConversationMessage, Reporter  # noqa: F401
from meldingen.routing.models import RoutingRule  # noqa: F401
from meldingen.subscriptions.models import WebhookDelivery, WebhookSubscription  # noqa: F401
