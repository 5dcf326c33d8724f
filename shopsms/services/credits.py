"""The « Crédits SMS » ledger: the balance is always the sum of its lines."""

from sqlalchemy import func, select

from ..extensions import db
from ..models import CreditEntry


def balance():
    """Credits left for the chain (one deployment serves one chain)."""
    return db.session.scalar(select(func.coalesce(func.sum(CreditEntry.amount), 0))) or 0


def top_up(amount, *, reference="", user=None):
    from . import audit

    if amount <= 0:
        raise ValueError("Le montant d'une recharge doit être positif.")
    entry = CreditEntry(kind="topup", amount=amount, reference=reference, user_id=user and user.id)
    db.session.add(entry)
    audit.record("credits.topup", user=user, amount=amount, reference=reference)
    db.session.commit()
    return entry
