"""A campaign's status: what it means to a person, how it moves (one conditional UPDATE,
so that of two requests racing only one wins), and the error a person reads when a
sending cannot go the way they asked.

Below every other campaign service (settings, sending and the recipient list raise
and move through it without importing services.campaigns)."""

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, update

from ..extensions import db
from ..models import Campaign

# What a campaign's status means to a person (lists, the campaign page, its errors).
STATUS_LABELS = {
    "draft": _l("Brouillon"),
    "preparing": _l("En préparation"),
    "scheduled": _l("Programmé"),
    "queued": _l("En file"),
    "sending": _l("En cours"),
    "sent": _l("Envoyé"),
    "cancelled": _l("Annulé"),
}


class CampaignError(ValueError):
    """A message that says what to change, in the person's language (a lazy string)."""


def claim_status(
    campaign_id: int,
    from_statuses: Iterable[str],
    to_status: str,
    *,
    also: Iterable[Any] = (),
    **values: Any,
) -> bool:
    """Move a campaign from one of `from_statuses` to `to_status` in one conditional
    UPDATE: of two requests (or a request and a worker) racing, only one wins. Says
    whether this one did; the loaded Campaign is brought up to date. `also`: further
    conditions the row must still meet."""
    changed: CursorResult = db.session.execute(  # type: ignore[assignment]
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(from_statuses), *also)
        .values(status=to_status, **values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return False
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is not None:
        campaign.status = to_status
        for name, value in values.items():
            setattr(campaign, name, value)
    return True


# The refusal of a change to a campaign some other request or worker moved first.
ALREADY_GONE = _l("Cette campagne est déjà partie ou programmée : elle ne peut plus changer.")
