"""A client's SMS consent and its proof: who, when, which store, how.

Two levels, as in the seed: marketing SMS (« accepte / refuse les SMS publicitaires »)
and « refuse tout SMS » (not even a repair notice). A STOP answered by SMS also puts the
number on the opt-out list (services.inbound); only the client asking again at the
counter, confirmed with a note, takes it off.
"""

from typing import TypedDict

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from ..access import Person
from ..extensions import db
from ..models import Client, OptOut, utcnow
from ..models.consent import CONSENT_HOWS, ConsentChange
from ..sms import phones
from . import audit


class Choice(TypedDict):
    marketing: str
    refuses_all: bool


# The card's buttons: what the client says at the counter.
CHOICES: dict[str, Choice] = {
    "accept": {"marketing": "accepted", "refuses_all": False},
    # Refusing marketing is also what a client who refused every SMS says when they
    # want their repair notices back: both levels are set.
    "refuse": {"marketing": "refused", "refuses_all": False},
    "refuse_all": {"marketing": "refused", "refuses_all": True},
}


class ConsentInvalid(ValueError):
    """What to fix before the change can be recorded, in French."""


def change_consent(
    client_id: int,
    *,
    marketing: str | None = None,
    refuses_all: bool | None = None,
    how: str,
    user_id: int | None = None,
    store_id: int | None = None,
    note: str = "",
) -> bool:
    """Set the client's marketing consent ("accepted"/"refused") and/or « refuse tout
    SMS », recording the proof when something changed. Does not commit."""
    if how not in CONSENT_HOWS:
        raise ValueError(f"unknown consent origin {how!r}")
    if marketing not in (None, "accepted", "refused", "unknown"):
        raise ValueError(f"unknown marketing consent {marketing!r}")
    client = db.session.get(Client, client_id)
    if client is None:
        return False
    before = (client.sms_consent, bool(client.sms_refuses_all))
    after = (
        marketing if marketing is not None else before[0],
        bool(refuses_all) if refuses_all is not None else before[1],
    )
    if after == before:
        return False
    client.sms_consent, client.sms_refuses_all = after
    client.updated_at = utcnow()
    _proof(client, before, after, how=how, user_id=user_id, store_id=store_id, note=note)
    return True


def _proof(
    client: Client,
    before: tuple[str, bool],
    after: tuple[str, bool],
    *,
    how: str,
    user_id: int | None,
    store_id: int | None,
    note: str | None,
) -> None:
    db.session.add(
        ConsentChange(
            client_id=client.id,
            user_id=user_id,
            store_id=store_id if store_id is not None else client.store_id,
            how=how,
            marketing_before=before[0],
            marketing_after=after[0],
            refuses_all_before=before[1],
            refuses_all_after=after[1],
            note=(note or "")[:200],
        )
    )


def consent_history(client_id: int, limit: int | None = None) -> list[ConsentChange]:
    """The proofs, newest first, with who and which store loaded in the same go."""
    query = (
        select(ConsentChange)
        .where(ConsentChange.client_id == client_id)
        .options(selectinload(ConsentChange.user), selectinload(ConsentChange.store))
        .order_by(ConsentChange.created_at.desc(), ConsentChange.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def client_numbers(client: Client) -> set[str]:
    """Every E.164 number the client is known by on the card (tel1, tel2, SMS number)."""
    numbers = {client.sms_number} if client.sms_number else set()
    for raw in (client.tel1, client.tel2):
        e164 = phones.classify(raw).e164
        if e164:
            numbers.add(e164)
    return numbers


def opted_out(client: Client) -> OptOut | None:
    """The opt-out entry of the client's SMS number (a STOP), or None."""
    if not client.sms_number:
        return None
    return db.session.scalar(select(OptOut).where(OptOut.phone == client.sms_number))


def set_consent(
    user: Person,
    client: Client,
    choice: str,
    *,
    note: str | None = "",
    confirm_stop: bool = False,
) -> bool:
    """The card's consent buttons, said at the counter. Accepting SMS again after a STOP
    needs the client's explicit request, confirmed with a note: the opt-out is lifted and
    the proof recorded together. Raises ConsentInvalid (French). Commits."""
    changes = CHOICES.get(choice)
    if changes is None:
        raise ValueError(f"unknown consent choice {choice!r}")
    note = (note or "").strip()
    optout = opted_out(client) if choice == "accept" else None
    if optout is not None and not (confirm_stop and note):
        raise ConsentInvalid(
            _l(
                "Ce numéro a envoyé STOP : cochez que le client demande à recevoir de nouveau "
                "les SMS et notez sa demande (par exemple « demandé au comptoir le 12/03 »)."
            )
        )
    before = (client.sms_consent, bool(client.sms_refuses_all))
    changed = change_consent(
        client.id,
        **changes,
        how="counter",
        user_id=user.id,
        store_id=user.store_id,
        note=note,
    )
    if optout is not None:
        db.session.execute(delete(OptOut).where(OptOut.id == optout.id))
        if not changed:  # the consent already said yes: the lifted STOP still has a proof
            _proof(
                client,
                before,
                before,
                how="counter",
                user_id=user.id,
                store_id=user.store_id,
                note=note,
            )
        audit.record(
            "consent.stop_lifted",
            user=user,
            store_id=client.store_id,
            obj=client,
            phone=optout.phone,
            note=note,
        )
        changed = True
    db.session.commit()
    return changed
