"""« Pression marketing » as kept for the live count (PostgreSQL; see MarketingPressure)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Index
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class MarketingPressure(db.Model):
    """A client's marketing SMS as the pressure cap counts them (services.pressure
    .RECEIVED_STATES, of a marketing campaign, the last 366 days), newest first, kept by
    triggers on messages (migration 0029) in the transaction of every change, whoever
    writes. `nth` is the one that puts the client at the cap (sent[N] for the N of
    PressureBasis): the client is over the cap of D days while nth is within them, so
    the live count of a selection finds its clients over the cap along an index instead
    of grouping every SMS of the period (100,000 after a chain campaign; issue 15). On
    PostgreSQL only: SQLite serves one store's demo and counts from the messages."""

    __tablename__ = "marketing_pressure"
    __table_args__ = (
        Index(
            "ix_marketing_pressure_nth",
            "nth",
            "client_id",
            postgresql_where=sa.text("nth IS NOT NULL"),
            sqlite_where=sa.text("nth IS NOT NULL"),
        ),
    )

    client_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sent: Mapped[list] = mapped_column(
        sa.ARRAY(sa.DateTime()).with_variant(sa.JSON(), "sqlite"), server_default="{}"
    )
    nth: Mapped[datetime | None]


class PressureBasis(db.Model):
    """The cap's number of SMS that MarketingPressure.nth is kept for: the chain's
    « pression marketing » setting, copied by a trigger on settings as it is saved (-1
    when unknown: the live count then counts from the messages)."""

    __tablename__ = "pressure_basis"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    most: Mapped[int]
