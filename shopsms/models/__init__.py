"""The models, one module per aggregate; importing this package registers them all."""

# Area modules whose names are imported from the module itself (models.consent…).
from . import automatic, consent, followup, integration, selection  # noqa: F401
from .audit import AuditEntry
from .base import utcnow
from .campaign import (
    CAMPAIGN_KINDS,
    CAMPAIGN_STATUSES,
    MESSAGE_STATES,
    SKIP_REASONS,
    Campaign,
    CampaignCount,
    DraftGroup,
    DraftRecipient,
    Message,
)
from .client import CIVILITIES, SMS_CONSENTS, Client, SharedNumber
from .credit import CREDIT_KINDS, CreditEntry
from .optout import InboundMessage, OptOut
from .outbox import OutboxMessage
from .pressure import MarketingPressure, PressureBasis
from .receipt import EarlyReceipt, MessagePart
from .repair import REPAIR_KINDS, REPAIR_STATUSES, RepairTicket, Workshop
from .results import ResultBuyer, ResultDay, ResultPair, ResultWindow
from .sales import Brand, Purchase
from .setting import Setting
from .store import Store
from .template import Template
from .user import ROLES, User
from .worker import WorkerHeartbeat

__all__ = [
    "AuditEntry",
    "WorkerHeartbeat",
    "Brand",
    "CAMPAIGN_KINDS",
    "CAMPAIGN_STATUSES",
    "CIVILITIES",
    "CREDIT_KINDS",
    "Campaign",
    "MarketingPressure",
    "PressureBasis",
    "SharedNumber",
    "CampaignCount",
    "Client",
    "CreditEntry",
    "DraftGroup",
    "DraftRecipient",
    "EarlyReceipt",
    "InboundMessage",
    "MESSAGE_STATES",
    "Message",
    "MessagePart",
    "OptOut",
    "OutboxMessage",
    "Purchase",
    "REPAIR_KINDS",
    "REPAIR_STATUSES",
    "ROLES",
    "RepairTicket",
    "ResultBuyer",
    "ResultDay",
    "ResultPair",
    "ResultWindow",
    "SKIP_REASONS",
    "SMS_CONSENTS",
    "Setting",
    "Store",
    "Template",
    "User",
    "Workshop",
    "utcnow",
]
