from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

# The seed's « Opér. » column: Rép., Garantie, Gratuit, Devis.
REPAIR_KINDS = ("repair", "warranty", "free", "quote")
# open: in store; at_workshop: sent; ready: back from the workshop (« Disponible »);
# collected: handed back to the client; cancelled.
REPAIR_STATUSES = ("open", "at_workshop", "ready", "collected", "cancelled")


class Workshop(db.Model):
    """« Atelier »: where repairs are sent."""

    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    # Client price = workshop price × coefficient, unless typed (seed 2.5).
    default_coefficient: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("2.50"))


class RepairTicket(db.Model):
    """« Fiche SAV »."""

    __tablename__ = "repair_tickets"
    __table_args__ = (
        Index("ix_repair_tickets_status_store", "status", "store_id"),
        Index("ix_repair_tickets_client", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # « N° fiche »
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[str] = mapped_column(String(10), default="repair")
    status: Mapped[str] = mapped_column(String(12), default="open")
    item_description: Mapped[str] = mapped_column(String(200), default="")  # « Descriptif »
    work_description: Mapped[str] = mapped_column(String(200), default="")  # « Réparation »
    interventions: Mapped[str] = mapped_column(Text, default="")
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshops.id"))
    workshop_price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    coefficient: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    client_price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))  # « Montant »
    deposit: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    received_on: Mapped[date] = mapped_column(default=date.today)
    sent_to_workshop_on: Mapped[date | None]
    returned_on: Mapped[date | None]  # « Date de retour »
    workshop_comment: Mapped[str] = mapped_column(Text, default="")
    collected_on: Mapped[date | None]  # « Sortie »
    notified_by: Mapped[str] = mapped_column(String(10), default="")  # « Prévenu par »: sms…
    notified_at: Mapped[datetime | None]
    # The latest SMS about this ticket, whose state says whether it was delivered. No
    # foreign key: messages already point to tickets, and a cycle would tangle table order.
    last_message_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    client = relationship("Client")
    store = relationship("Store")
    workshop = relationship("Workshop")

    @property
    def amount_due(self):
        return (self.client_price or Decimal("0")) - (self.deposit or Decimal("0"))
