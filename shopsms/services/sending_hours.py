"""Sending hours (marketing only): the store's window read from its settings, when
« Envoyer » would send, the refusal of a time outside it, and the times typed in
Europe/Paris made UTC. The rule itself (days, hours, public holidays) is sms/hours.py;
campaigns.queue_now and the workers (services/sending.py) apply it through here."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from ..models import Campaign, utcnow
from ..sms import hours
from . import settings
from .campaign_status import CampaignError
from .eligibility import MARKETING


class OutsideSendingHours(CampaignError):
    def __init__(self, next_allowed: datetime) -> None:
        self.next_allowed = next_allowed  # aware, Europe/Paris
        super().__init__(
            _l(
                "Les SMS publicitaires partent du lundi au samedi aux heures d'envoi, jamais "
                "un jour férié. Prochain créneau : %(day)s à %(hour)s.",
                day=f"{next_allowed:%d/%m/%Y}",
                hour=f"{next_allowed:%H:%M}",
            )
        )


def sending_window(
    store_id: int | None = None, values: Mapping[str, Any] | None = None
) -> hours.Window:
    """The store's sending hours; `values`: its settings when the caller read them
    already (sending_days, sending_start, sending_end)."""
    if values is None:
        values = settings.get_many(("sending_days", "sending_start", "sending_end"), store_id)
    return hours.Window.from_settings(
        values["sending_days"], values["sending_start"], values["sending_end"]
    )


def sending_moment(
    campaign: Campaign, *, now: datetime | None = None
) -> tuple[datetime | None, bool]:
    """When « Envoyer » would send this draft, as naive UTC, and whether that is now:
    now, or for marketing outside the sending hours the next allowed minute (None when
    the window never opens)."""
    now = now or utcnow()
    if campaign.kind == MARKETING:
        window = sending_window(campaign.store_id)
        if not hours.is_allowed(now, window):
            try:
                moment = hours.next_allowed(now, window)
            except ValueError:
                return None, False
            return moment.astimezone(UTC).replace(tzinfo=None), False
    return now, True


def check_when(campaign: Campaign, when_utc: datetime, now: datetime) -> None:
    """A deferred time must be to come and, for marketing, within the sending hours."""
    if when_utc <= now:
        raise CampaignError(
            _l("La date d'envoi différé est passée : choisissez un moment à venir.")
        )
    if campaign.kind == MARKETING:
        window = sending_window(campaign.store_id)
        if not hours.is_allowed(when_utc, window):
            raise OutsideSendingHours(hours.next_allowed(when_utc, window))


NO_SUCH_TIME = _l("Cette heure n'existe pas ce jour-là (changement d'heure).")


def to_utc(local_naive: datetime) -> datetime:
    """A date and time typed in Europe/Paris, as the naive UTC the database stores. A
    time the clocks skip (spring) or pass twice (autumn) is refused rather than guessed."""
    if local_naive.tzinfo is not None:
        return local_naive.astimezone(UTC).replace(tzinfo=None)
    first = local_naive.replace(tzinfo=hours.PARIS, fold=0)
    second = local_naive.replace(tzinfo=hours.PARIS, fold=1)
    utc = first.astimezone(UTC)
    if utc != second.astimezone(UTC):
        raise CampaignError(NO_SUCH_TIME)
    if utc.astimezone(hours.PARIS).replace(tzinfo=None) != local_naive:
        raise CampaignError(NO_SUCH_TIME)
    return utc.replace(tzinfo=None)
