from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import BigInteger, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

CAMPAIGN_KINDS = ("single", "marketing", "repair", "workshop_return")
# preparing: « Envoyer » or « Envoi différé » clicked, a job giving every recipient their
# final text and reserving the credits (services/recipients.prepare).
CAMPAIGN_STATUSES = (
    "draft",
    "preparing",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "cancelled",
)
# submitting: handed to the gateway, its answer not yet recorded (see services/sending.py).
MESSAGE_STATES = (
    "pending",
    "submitting",
    "submitted",
    "delivered",
    "failed",
    "expired",
    "skipped",
    "no_receipt",  # submitted, and no delivery receipt within the validity period
)
SKIP_REASONS = (
    "optout",
    "no_consent",
    "refuses_all",
    "no_mobile",
    "duplicate",
    "cancelled",
    "removed",  # taken off the « Liste des destinataires » by hand
    "control",  # held out at random: the « groupe témoin » the results compare with
    "pressure",  # « pression marketing »: the client had enough marketing SMS lately
)


class Campaign(db.Model):
    """« Campagne / envoi »: one sending; its outcome is the « Rapport d'envoi »."""

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_status_scheduled", "status", "scheduled_at"),
        Index("ix_campaigns_store_created", "store_id", "created_at"),
        Index("ix_campaigns_report_open", "closed_at", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    name: Mapped[str] = mapped_column(String(120), default="")
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sender_id: Mapped[str] = mapped_column(String(11), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # the template, before placeholders
    # The selection a marketing campaign was built from (JSON of selection.Criteria).
    criteria: Mapped[str] = mapped_column(Text, default="")
    add_stop: Mapped[bool] = mapped_column(default=False)
    # « Groupe témoin »: the share (%) of a marketing campaign's eligible recipients held
    # out at random when its list is frozen (services/results.py).
    control_share: Mapped[int] = mapped_column(SmallInteger, default=0)
    # A/B texts: « Variante B » and the share (%) of the recipients given it; 0: one text
    # (services/variants.py).
    body_b: Mapped[str] = mapped_column(Text, default="")
    split_b: Mapped[int] = mapped_column(SmallInteger, default=0)
    # The « Résultats » last measured (JSON, services/results.py) and when: the page reads
    # them rather than going over the sales on each view.
    results: Mapped[str] = mapped_column(Text, default="")
    results_at: Mapped[datetime | None]
    # « Écrire les noms sans accents dans ce SMS »: the card values go out in GSM-7
    # (« Françoise » → « Francoise ») for this campaign only; the cards stay as they are.
    gsm_names: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    recipients_count: Mapped[int] = mapped_column(default=0)
    # While preparing: rows given their final text, out of those to prepare.
    prepared: Mapped[int] = mapped_column(default=0, server_default="0")
    to_prepare: Mapped[int] = mapped_column(default=0, server_default="0")
    prepared_at: Mapped[datetime | None]  # its last progress: the sweep resumes a stale one
    scheduled_at: Mapped[datetime | None]  # UTC; « Envoi différé »
    # Not sent before this (UTC): the deferred time, or the next sending-hours minute.
    not_before: Mapped[datetime | None]
    status_note: Mapped[str] = mapped_column(String(200), default="")
    gateway: Mapped[str] = mapped_column(String(10), default="")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Credits charged and the rest refunded: set once, whoever finishes the campaign.
    settled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # « Clôturer le rapport »: managers close a finished sending's report.
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    store = relationship("Store")
    created_by = relationship("User", foreign_keys=[created_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])


class Message(db.Model):
    """« SMS »: one recipient row of a campaign, frozen when the campaign is drafted (a
    marketing campaign's, from its DraftRecipient list when it starts)."""

    __tablename__ = "messages"
    __table_args__ = (
        # With id last, a claim reads the next pending rows in order, no sort.
        Index("ix_messages_campaign_state", "campaign_id", "state", "id"),
        Index("ix_messages_client_created", "client_id", "created_at"),
        Index("ix_messages_gateway_ref", "gateway", "gateway_ref"),
        # The marketing pressure of a live count: the SMS counted in the cap's days, read
        # from this index alone, not from every message ever sent (issue 15). Its states
        # are services.pressure.RECEIVED_STATES (a test holds them equal).
        Index(
            "ix_messages_counted_created",
            "created_at",
            "client_id",
            "campaign_id",
            postgresql_where=sa.text("state IN ('submitting', 'submitted', 'delivered')"),
            sqlite_where=sa.text("state IN ('submitting', 'submitted', 'delivered')"),
        ),
        # « Résultats »: the control group's size without reading the campaign's messages.
        Index(
            "ix_messages_control",
            "campaign_id",
            postgresql_where=sa.text("skip_reason = 'control'"),
            sqlite_where=sa.text("skip_reason = 'control'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    repair_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("repair_tickets.id"))
    phone: Mapped[str] = mapped_column(String(20), default="")  # E.164
    text: Mapped[str] = mapped_column(Text, default="")  # final text: placeholders, STOP
    parts: Mapped[int] = mapped_column(SmallInteger, default=0)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    skip_reason: Mapped[str] = mapped_column(String(20), default="")
    variant: Mapped[str] = mapped_column(String(1), default="")  # A/B texts: "A", "B" or ""
    error: Mapped[str] = mapped_column(String(200), default="")  # operator's reason
    gateway: Mapped[str] = mapped_column(String(10), default="")
    gateway_ref: Mapped[str | None] = mapped_column(String(64))  # the gateway's message id
    # Set when a worker claims the row, so a batch run twice never submits it twice.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]

    campaign = relationship("Campaign")
    client = relationship("Client")


class DraftRecipient(db.Model):
    """One row of a marketing draft's « Liste des destinataires »: who the selection
    found (pending, or skipped with the reason), corrected by hand, then given its final
    text. It becomes a Message when the campaign starts sending (services/recipients
    .materialize), in one INSERT … SELECT.

    A work table, kept lean on purpose: a selection freezes 100,000 rows in a couple of
    seconds only without foreign-key checks (on PostgreSQL each row's check locks the
    referenced client: over a second per 100,000 rows) and with few indexes. The rows
    are written by that INSERT … SELECT from clients and campaigns, and deleted with
    their campaign (recipients._delete); the messages they become keep their foreign
    keys."""

    __tablename__ = "draft_recipients"
    __table_args__ = (
        Index("ix_draft_recipients_campaign_state", "campaign_id", "state", "id"),
        # « Respecter les critères de sélection » on the SAV list: is this ticket's client
        # in the selection? One probe per ticket, whatever the selection's size. Rows come
        # in client order, so the index grows at its right edge.
        Index("ix_draft_recipients_campaign_client", "campaign_id", "client_id"),
        # A group's first client still on the list (the composer's warnings name them):
        # one probe per group whose first client leaves (the triggers of migration 0023).
        Index(
            "ix_draft_recipients_pending_grp",
            "campaign_id",
            "variant",
            "grp",
            "client_id",
            postgresql_where=sa.text("state = 'pending'"),
            sqlite_where=sa.text("state = 'pending'"),
        ),
        # « Liste des destinataires », a page at a time from the last place shown.
        Index(
            "ix_draft_recipients_campaign_state_name_order", "campaign_id", "state", "name_order"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int]
    client_id: Mapped[int]
    phone: Mapped[str] = mapped_column(String(20), default="")  # E.164
    text: Mapped[str] = mapped_column(Text, default="")  # final text, once composed
    parts: Mapped[int] = mapped_column(SmallInteger, default=0)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # or "skipped"
    skip_reason: Mapped[str] = mapped_column(String(20), default="")
    variant: Mapped[str] = mapped_column(String(1), default="")
    # What the client's card costs in a text (issue 15): [store id, civility, first name
    # and last name shaped by sms.cost.shape] as JSON, written when the row is made, so
    # that the list's DraftGroup counts stay exact whatever happens to the row.
    grp: Mapped[str] = mapped_column(Text, default="")
    # The row's place in the list's order (the client's last name, first name, then the
    # row), given when the list is made (migration 0026): a page is read along an index
    # from the last place shown, not sorted from the whole list joined to the cards. A
    # card renamed afterwards keeps its place, as the list was frozen.
    name_order: Mapped[int] = mapped_column(default=0, server_default="0")

    # Read like a Message by the report of a campaign not started yet.
    error = ""
    submitted_at = done_at = None


class DraftGroup(db.Model):
    """How many pending rows of a draft's list share a card shape (DraftRecipient.grp)
    and variant: the composer's exact cost is counted on these few rows at each pause in
    the typing, not on the 100,000 recipients. Written by database triggers on
    draft_recipients (migration 0020) in the transaction of every change of the list:
    the selection made, a row removed, restored, corrected, held out, frozen. A group
    keeps the lowest client id it ever had (the warnings name that client, if still on
    the list); groups that fell to 0 stay until the list goes."""

    __tablename__ = "draft_groups"
    __table_args__ = (
        Index("ix_draft_groups_campaign_variant_grp", "campaign_id", "variant", "grp", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int]
    variant: Mapped[str] = mapped_column(String(1), default="")
    grp: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[int] = mapped_column(default=0)
    first_client_id: Mapped[int]


class CampaignCount(db.Model):
    """A report's counts, kept as messages change state: how many rows of the campaign
    (its messages and its recipient list) are in `state`, and their SMS parts. Written by
    database triggers on messages and draft_recipients (migration 0015), in the
    statement's own transaction, whoever writes: services, a bulk UPDATE, a sweep. Read
    by summing the rows of a campaign and state (and variant, « A », « B » or ""): on
    PostgreSQL each statement appends one row per (campaign, state, variant) it changed,
    so that workers sending one campaign side by side never wait on each other, and the
    sweep folds them (compact_counts); on SQLite (one writer) the row is updated in
    place."""

    __tablename__ = "campaign_counts"
    __table_args__ = (Index("ix_campaign_counts_campaign_state", "campaign_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int]
    state: Mapped[str] = mapped_column(String(10))
    variant: Mapped[str] = mapped_column(String(1), default="")  # A/B texts (migration 0022)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)
    parts: Mapped[int] = mapped_column(BigInteger, default=0)
