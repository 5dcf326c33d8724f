from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Brand(db.Model):
    """« Marque »: campaigns select on the revenue made on one brand."""

    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)


class Purchase(db.Model):
    """« Vente / passage »: one sale ticket."""

    __tablename__ = "purchases"
    __table_args__ = (
        # Revenue on a brand over a period, without touching the table.
        Index("ix_purchases_brand_date", "brand_id", "date", "client_id", "amount"),
        # A client's history and "no visit for X days".
        Index("ix_purchases_client_date", "client_id", "date"),
        Index("ix_purchases_store_date", "store_id", "date"),
        # A store's clients include those who bought there (selection.store_clients).
        Index("ix_purchases_store_client", "store_id", "client_id"),
        # « Résultats »: the sales of an attribution window, without touching the table.
        Index("ix_purchases_date_client", "date", "client_id", "store_id", "amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id"))
    date: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))  # incl. VAT
    ticket_number: Mapped[str] = mapped_column(String(30), default="")

    client = relationship("Client")
    store = relationship("Store")
    brand = relationship("Brand")
