"""The « Crédits SMS » ledger: the balance is always the sum of its lines.

A campaign reserves its exact cost when it is queued or scheduled, is charged the
parts actually submitted when it ends, and gets the rest back. The reservation is
one conditional INSERT, serialised on PostgreSQL by an advisory lock (SQLite runs
one writer at a time), so two campaigns racing for the last credits can never take
the balance below zero.
"""

from sqlalchemy import func, insert, literal, select, text, update

from ..extensions import db
from ..models import Campaign, CreditEntry, Message, utcnow
from . import audit

# Any constant shared by every process of the deployment: it names the ledger's lock.
_LEDGER_LOCK = 734_501


class NotEnoughCredits(Exception):
    def __init__(self, needed, available):
        self.needed, self.available = needed, available
        super().__init__(
            f"Crédits insuffisants : cet envoi coûte {needed} crédit(s) et il en reste "
            f"{available}. Rechargez le compte ou réduisez la sélection."
        )


def balance():
    """Credits left for the chain (one deployment serves one chain)."""
    return db.session.scalar(select(func.coalesce(func.sum(CreditEntry.amount), 0))) or 0


def _lock_ledger():
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LEDGER_LOCK})


def reserve(campaign_id, amount, *, store_id=None, user_id=None):
    """Take `amount` credits for a campaign, or raise NotEnoughCredits. Does not commit:
    the caller commits the reservation with the campaign's change of state."""
    if amount <= 0:
        return
    _lock_ledger()
    current = select(func.coalesce(func.sum(CreditEntry.amount), 0)).scalar_subquery()
    values = select(
        literal("reservation"),
        literal(-amount),
        literal(campaign_id),
        literal(store_id),
        literal(user_id),
        literal(""),
        literal(utcnow()),
    ).where(current >= amount)
    columns = ["kind", "amount", "campaign_id", "store_id", "user_id", "reference", "created_at"]
    # RETURNING says plainly whether the row went in (rowcount does not, with psycopg).
    statement = insert(CreditEntry).from_select(columns, values).returning(CreditEntry.id)
    if db.session.execute(statement).first() is None:
        raise NotEnoughCredits(amount, balance())


def settle(campaign_id):
    """Charge the parts submitted and refund the rest of the reservation, once."""
    claimed = db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.settled_at.is_(None))
        .values(settled_at=utcnow())
    )
    if claimed.rowcount != 1:
        return  # another worker settled it
    campaign = db.session.get(Campaign, campaign_id)
    reserved = -(
        db.session.scalar(
            select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
                CreditEntry.campaign_id == campaign_id, CreditEntry.kind == "reservation"
            )
        )
        or 0
    )
    charged = (
        db.session.scalar(
            select(func.coalesce(func.sum(Message.parts), 0)).where(
                Message.campaign_id == campaign_id, Message.submitted_at.is_not(None)
            )
        )
        or 0
    )
    # A charge stands for parts already taken by the reservation: it moves no credit.
    db.session.add(
        CreditEntry(kind="charge", amount=0, parts=charged, campaign_id=campaign_id,
                    store_id=campaign.store_id)
    )  # fmt: skip
    if reserved > charged:
        db.session.add(
            CreditEntry(kind="refund", amount=reserved - charged, campaign_id=campaign_id,
                        store_id=campaign.store_id)
        )  # fmt: skip


def top_up(amount, *, reference="", user=None):
    if amount <= 0:
        raise ValueError("Le montant d'une recharge doit être positif.")
    entry = CreditEntry(kind="topup", amount=amount, reference=reference, user_id=user and user.id)
    db.session.add(entry)
    audit.record("credits.topup", user=user, amount=amount, reference=reference)
    db.session.commit()
    return entry
