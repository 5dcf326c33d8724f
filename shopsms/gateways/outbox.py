"""The simulation gateway: nothing leaves ShopSMS. Messages land on the « Téléphone de
test » page and delivery reports come back, asynchronously, through the same service
as a real operator's.

Test range (documented in the README): 06 00 00 00 01 to 06 00 00 00 49 fail as
"numéro inexistant", 06 00 00 00 50 to 06 00 00 00 99 expire; every other number is
delivered.
"""

from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import OutboxMessage, utcnow
from ..models.base import any_of, bulk_insert
from ..sms.said import N_, readable
from .base import OutgoingSms, Submitted, callbacks

TEST_RANGE_PREFIX = "+336000000"
REPORT_DELAY_SECONDS = 1


# The simulated operator's reasons, kept as their French words on the message and said
# in the reader's language (shopsms.sms.said.read).
_NO_SUCH_NUMBER = N_("Numéro inexistant (plage de test)")
_UNREACHABLE = N_("Téléphone injoignable pendant la durée de validité (plage de test)")
readable(_NO_SUCH_NUMBER, _UNREACHABLE)


def outcome(phone):
    """What the simulated operator reports for a number: (state, reason)."""
    if phone.startswith(TEST_RANGE_PREFIX) and len(phone) == len(TEST_RANGE_PREFIX) + 2:
        last = int(phone[-2:])
        if 1 <= last <= 49:
            return "failed", _NO_SUCH_NUMBER
        if last >= 50:
            return "expired", _UNREACHABLE
    return "delivered", ""


class OutboxGateway:
    name = "outbox"
    transactional = True

    def __init__(self):
        self._taken = []

    def submit(self, messages: list[OutgoingSms]) -> list[Submitted]:
        ids = [m.message_id for m in messages]
        already = self.received(ids)
        due = utcnow() + timedelta(seconds=REPORT_DELAY_SECONDS)
        rows = [
            {
                "message_id": m.message_id,
                "phone": m.phone,
                "sender_id": m.sender_id,
                "text": m.text,
                "parts": m.parts,
                "report_due_at": due,
            }
            for m in messages
            if m.message_id not in already
        ]
        bulk_insert(OutboxMessage, rows)  # COPY on PostgreSQL: one round trip a batch
        self._taken.extend(ids)
        return [Submitted(message_id=i) for i in ids]

    def received(self, message_ids):
        found = set()
        for start in range(0, len(message_ids), 1000):
            chunk = message_ids[start : start + 1000]
            found.update(
                db.session.scalars(
                    select(OutboxMessage.message_id).where(any_of(OutboxMessage.message_id, chunk))
                )
            )
        return found

    def after_commit(self):
        if not self._taken:
            return
        taken, self._taken = self._taken, []
        # Redis away: the reports are due in the database, the sweep makes them.
        callbacks().reports_later(taken, timedelta(seconds=REPORT_DELAY_SECONDS))
