"""« Pression marketing »: at most N marketing SMS per client in D days, whatever the store
that sent them (service messages do not count). Applied after the eligibility rule: when
a draft's list is made and its live count shown (services/recipients.py), when an
automatic run is planned, and again by the workers on each batch (services/sending.py)."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_date, format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update

from ..extensions import db
from ..models import Campaign, MarketingPressure, Message, PressureBasis, utcnow
from ..models.base import among, any_of
from ..sms import hours
from . import settings
from .eligibility import MARKETING

PRESSURE = "pressure"
# What counts as an SMS the client received: handed to the operator, or delivered.
RECEIVED_STATES = ("submitting", "submitted", "delivered")


def pressure_cap(most: Any = None, days: Any = None) -> tuple[int, int] | None:
    """(N, D) of the chain's setting, or None when the cap is off (N = 0). `most`,
    `days`: the settings' values when the caller read them already."""
    if most is None:
        values = settings.get_many(("pressure_max", "pressure_days"))
        most, days = values["pressure_max"], values["pressure_days"]
    most, days = int(most), int(days)
    return (most, days) if most > 0 else None


def over_pressure(
    client_ids: Any,
    *,
    now: datetime | None = None,
    except_campaign: int | None = None,
    except_sms: Sequence[int] | None = None,
    cap: Any = False,
) -> dict[int, tuple[int, datetime]]:
    """{client id: (marketing SMS received, first of them, naive UTC)} for the clients of
    `client_ids` (ids, or a SELECT of ids) who already had the cap's number of marketing
    SMS in its days, whatever the store that sent them. Service messages do not count,
    nor those of `except_campaign` (the campaign a worker sends): `except_sms`, the ids
    of its SMS to those clients (the worker's batch: a campaign texts a client once),
    lets PostgreSQL answer from what is kept. `cap`: pressure_cap() when the caller has
    it."""
    cap = pressure_cap() if cap is False else cap
    if cap is None:
        return {}
    if except_campaign is None or except_sms is not None:
        kept = _kept_over_cap(client_ids, cap, now, except_sms or ())
        if kept is not None:
            return kept
    found: dict[int, tuple[int, datetime]] = {}
    for part in among(Message.client_id, client_ids):
        query = _over_pressure(cap, now).where(part)
        if except_campaign is not None:
            query = query.where(Message.campaign_id != except_campaign)
        for client_id, sent, first in db.session.execute(query):
            found[client_id] = (sent, first)
    return found


def _kept_over_cap(
    client_ids: Any, cap: tuple[int, int], now: datetime | None, except_sms: Sequence[int]
) -> dict[int, tuple[int, datetime]] | None:
    """PostgreSQL, when the triggers keep the SMS for this cap's number: over_pressure
    from what is kept (models.MarketingPressure), by primary key: the clients at the cap
    along ix_marketing_pressure_nth, each one's SMS of the cap's days counted but those
    of `except_sms`. Else None. Counted from the messages, a worker's check of each batch
    grouped every marketing SMS of the cap's days (a chain campaign's own 600,000; issue
    16), or, for the clients at the cap alone, the planner started from the campaigns
    and read each one's every SMS (0.5 s a batch of a chain's second campaign in a
    week)."""
    if db.session.connection().dialect.name != "postgresql":
        return None
    most, days = cap
    if db.session.scalar(select(PressureBasis.most).where(PressureBasis.id == 1)) != most:
        return None
    since = (now or utcnow()) - timedelta(days=days)
    own: dict[int, list[datetime]] = {}
    if except_sms:
        for client_id, created_at in db.session.execute(
            select(Message.client_id, Message.created_at).where(
                any_of(Message.id, except_sms), Message.state.in_(RECEIVED_STATES)
            )
        ):
            if client_id is not None:
                own.setdefault(client_id, []).append(created_at)
    found: dict[int, tuple[int, datetime]] = {}
    for part in among(MarketingPressure.client_id, client_ids):
        at_cap = select(MarketingPressure.client_id, MarketingPressure.sent).where(
            part, MarketingPressure.nth >= since
        )
        for client_id, sent in db.session.execute(at_cap):
            days_sms = [day for day in sent if day >= since]
            for day in own.get(client_id, ()):
                if day in days_sms:
                    days_sms.remove(day)
            if len(days_sms) >= most:
                found[client_id] = (len(days_sms), min(days_sms))
    return found


def _over_pressure(cap: tuple[int, int], now: datetime | None = None) -> Select:
    """Every client who had the cap's number of marketing SMS in its days, with how many
    and the first (over_pressure narrows it to some clients)."""
    most, days = cap
    since = (now or utcnow()) - timedelta(days=days)
    return (
        select(Message.client_id, func.count(), func.min(Message.created_at))
        .join(Campaign, Campaign.id == Message.campaign_id)
        .where(
            Message.created_at >= since,
            Message.state.in_(RECEIVED_STATES),
            Campaign.kind == MARKETING,
        )
        .group_by(Message.client_id)
        .having(func.count() >= most)
    )


def count_over_pressure(client_ids: Any, *, cap: tuple[int, int]) -> int:
    """How many clients of `client_ids` (a SELECT of ids) over_pressure would give, for
    the selection screen's live count. On PostgreSQL, from what the triggers keep
    (models.MarketingPressure) when it is kept for this cap's number: the clients whose
    SMS that reaches the cap is within its days, along ix_marketing_pressure_nth (a
    handful), then looked up in the selection. Else (SQLite, or a cap set outside the
    settings) the period's marketing SMS are gathered first (MATERIALIZED: the planner
    may not push the selection into them), then their clients looked up in the
    selection: that grouped 100,000 SMS after a chain campaign (issue 15)."""
    most, days = cap
    if db.session.connection().dialect.name == "postgresql":
        kept_for = db.session.scalar(select(PressureBasis.most).where(PressureBasis.id == 1))
        if kept_for == most:
            since = utcnow() - timedelta(days=days)
            kept = select(func.count()).where(
                MarketingPressure.nth >= since, MarketingPressure.client_id.in_(client_ids)
            )
            return db.session.scalar(kept) or 0
    over = _over_pressure(cap).cte("over_pressure").prefix_with("MATERIALIZED")
    counted = select(func.count()).select_from(over).where(over.c.client_id.in_(client_ids))
    return db.session.scalar(counted) or 0


def pressure_reason(sent: int, first: datetime) -> str:
    """The skip reason stored on the row (20 characters at most): « pressure:2:20260303 »."""
    return f"{PRESSURE}:{min(sent, 99)}:{hours._paris(first):%Y%m%d}"


def pressure_text(reason: str, *, capital: bool = False) -> str:
    """« pression marketing : déjà 2 SMS depuis le 3 mars » for a stored reason, in the
    person's language (« marketing pressure: already 2 SMS since March 3 »), the day
    written by Babel (CLDR) for that language; with a capital to start a sentence."""
    text = _pressure_text(reason)
    return text[0].upper() + text[1:] if capital else text


def _pressure_text(reason: str) -> str:
    try:
        _rule, sent, day = reason.split(":")
        count, since = int(sent), date(int(day[:4]), int(day[4:6]), int(day[6:8]))
    except ValueError:
        return _("pression marketing")
    return _(
        "pression marketing : déjà %(num)s SMS depuis le %(day)s",
        num=count,
        day=_day_of_month(since),
    )


def _day_of_month(day: date) -> str:
    """« 3 mars », « 1er mars » (French writes the first so), « March 3 »."""
    locale = get_locale() or "fr"
    if str(locale).startswith("fr") and day.day == 1:
        return "1er " + format_date(day, "MMMM", locale=locale)
    return format_skeleton("MMMMd", day, locale=locale)


def skip_pressure(
    model: Any,
    row_ids: Mapping[int, Iterable[int]],
    over: Mapping[int, tuple[int, datetime]],
    *,
    state: str = "pending",
    **values: Any,
) -> set[int]:
    """Skip the rows (of `model`, Message or DraftRecipient, in `state`) whose client is
    over the cap, each with its own reason; `row_ids` maps client id → row ids. Returns
    the row ids skipped."""
    by_reason: dict[str, list[int]] = {}
    for client_id, (sent, first) in over.items():
        for row_id in row_ids.get(client_id, ()):
            by_reason.setdefault(pressure_reason(sent, first), []).append(row_id)
    skipped: set[int] = set()
    for reason, ids in by_reason.items():
        for part in among(model.id, ids):
            skipped.update(
                db.session.scalars(
                    update(model)
                    .where(part, model.state == state)
                    .values(state="skipped", skip_reason=reason, **values)
                    .returning(model.id)
                    .execution_options(synchronize_session=False)
                )
            )
    return skipped
