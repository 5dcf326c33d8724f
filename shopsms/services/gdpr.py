"""The GDPR access request: everything ShopSMS keeps about one client's SMS."""

from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..access import Person
from ..extensions import db
from ..models import InboundMessage, OptOut, utcnow
from . import clients
from .consent import client_numbers, consent_history


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def export(user: Person, client_id: int) -> dict[str, Any]:
    """The card's contact data, the consent and its proofs, the opt-outs of every number
    the client has had, every SMS sent and every SMS received. Plain JSON-able values."""
    client = clients.get(user, client_id)
    sent = clients.messages(client.id, limit=None)
    received = list(
        db.session.scalars(
            select(InboundMessage)
            .where(InboundMessage.client_id == client.id)
            .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        )
    )
    # A STOP from a number the client no longer has on the card is still theirs.
    numbers = client_numbers(client)
    numbers |= {row.Message.phone for row in sent if row.Message.phone}
    numbers |= {message.phone for message in received if message.phone}
    optouts = list(
        db.session.scalars(
            select(OptOut).where(OptOut.phone.in_(sorted(numbers))).order_by(OptOut.created_at)
        )
    )
    return {
        "exported_at": _at(utcnow()),
        "client": {
            "number": client.number,
            "civility": client.civility,
            "last_name": client.last_name,
            "first_name": client.first_name,
            "address": " ".join(filter(None, (client.address1, client.address2))),
            "postal_code": client.postal_code,
            "city": client.city,
            "country": client.country,
            "tel1": client.tel1,
            "tel2": client.tel2,
            "sms_number": client.sms_number,
            "email": client.email,
            "store_of_creation": client.store.name if client.store else "",
            "created_on": client.created_on.isoformat() if client.created_on else None,
        },
        "consent": {
            "sms_marketing": client.sms_consent,
            "sms_refuses_all": client.sms_refuses_all,
            "email": client.email_consent,
            "post": client.post_consent,
        },
        "consent_proofs": [
            {
                "at": _at(change.created_at),
                "how": change.how,
                "by": (change.user.full_name or change.user.username) if change.user else "",
                "store": change.store.name if change.store else "",
                "marketing": [change.marketing_before, change.marketing_after],
                "refuses_all": [change.refuses_all_before, change.refuses_all_after],
                "note": change.note,
            }
            for change in consent_history(client.id)
        ],
        "opt_outs": [
            {"phone": optout.phone, "at": _at(optout.created_at), "source": optout.source}
            for optout in optouts
        ],
        "sms": [
            {
                "at": _at(row.Message.created_at),
                "kind": row.kind,
                "phone": row.Message.phone,
                "text": row.Message.text,
                "state": row.Message.state,
                "skip_reason": row.Message.skip_reason,
                "error": row.Message.error,
            }
            for row in sent
        ],
        "received": [
            {
                "at": _at(message.received_at),
                "phone": message.phone,
                "text": message.text,
                "stop": message.is_stop,
            }
            for message in received
        ],
    }
