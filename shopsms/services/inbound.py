"""SMS that clients send back. STOP puts the number on the opt-out list and the client
off marketing, with the proof; anything else is kept for staff to read."""

import re
from collections.abc import Sequence

from sqlalchemy import select

from ..extensions import db
from ..models import Client, InboundMessage, OptOut
from ..sms import phones
from ..sms.said import N_, readable
from . import audit
from .consent import change_consent

# The consent proof's note, kept as its French words (the card says it in the reader's
# language: formats.said reads it again).
STOP_NOTE = N_("STOP reçu du %(phone)s")
readable(STOP_NOTE)

# "STOP", "stop svp", " Stop.", "STOP SMS", "STOP 36608": STOP leads the message.
_STOP = re.compile(r"^\W*stop\b", re.IGNORECASE)


def is_stop(text: str | None) -> bool:
    return bool(_STOP.match(text or ""))


def receive(
    gateway_name: str, sender: str | None, text: str | None, *, to: str | None = ""
) -> InboundMessage:
    """Record an inbound SMS; returns the InboundMessage."""
    phone = phones.classify(sender or "").e164 or (sender or "").strip()
    client_ids = list(db.session.scalars(select(Client.id).where(Client.sms_number == phone)))
    message = InboundMessage(
        phone=phone,
        to=to or "",
        text=text or "",
        gateway=gateway_name,
        client_id=client_ids[0] if client_ids else None,
        is_stop=is_stop(text),
    )
    db.session.add(message)
    db.session.flush()
    if message.is_stop:
        _opt_out(phone, gateway_name, message, client_ids)
    db.session.commit()
    return message


def _opt_out(
    phone: str, gateway_name: str, message: InboundMessage, client_ids: Sequence[int]
) -> None:
    if db.session.scalar(select(OptOut.id).where(OptOut.phone == phone)) is None:
        db.session.add(
            OptOut(phone=phone, source="sms", gateway=gateway_name, inbound_message_id=message.id)
        )
    for client_id in client_ids:
        change_consent(client_id, marketing="refused", how="stop", note=N_(STOP_NOTE, phone=phone))
    for client_id in client_ids:
        audit.record(
            "consent.stop",
            obj=db.session.get(Client, client_id),
            how="STOP par SMS",
            gateway=gateway_name,
            phone=phone,
            inbound_message_id=message.id,
        )
