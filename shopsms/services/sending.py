"""Workers send a campaign batch by batch, and never hand a message to a gateway twice.

A batch is claimed in one statement, so two workers never take the same row: on
PostgreSQL the next rows of the campaign's recipient list leave it as claimed messages
(a claim token and time; SKIP LOCKED lets workers take the list side by side); pending
messages (released by a dead worker, or the whole list on SQLite, moved when the
campaign starts) are claimed by one UPDATE. Consent and opt-outs are checked again on the
claimed rows. A row turns "submitting" only when it is handed to the gateway: with
the outbox, claim, submission and record commit together; with a network gateway,
each small chunk is marked "submitting" and committed just before its requests
leave, and its answers are committed as soon as they are back.

When a worker dies, its claimed rows that never left are simply released. Only the
chunk in flight is uncertain: the sweep (recover_stale) asks the gateway which of
those it took (the outbox knows; Kannel's delivery reports move the rows it took
out of "submitting" within seconds) before the rest go back to pending.
"""

import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import (
    CursorResult,
    Row,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    tuple_,
    update,
)

from .. import formats
from ..extensions import db
from ..gateways import GatewayUnavailable, OutgoingSms, get_gateway
from ..gateways.base import Gateway, Submitted
from ..models import Campaign, Client, DraftRecipient, Message, MessagePart, utcnow
from ..models.base import any_of
from ..sms import hours
from ..sms.said import N_
from . import credits, delivery, eligibility, link_status, results, settings
from .campaign_status import claim_status
from .draft_list import drop_groups, groups_stand_aside, materialize
from .eligibility import MARKETING
from .pressure import over_pressure, pressure_cap, skip_pressure
from .sending_hours import sending_window, to_utc
from .workers import claimed_by_a_living_worker, dead_after


def stale_after() -> timedelta:
    """A claim older than this belongs to a worker that died (CLAIM_STALE_SECONDS)."""
    return timedelta(seconds=current_app.config["CLAIM_STALE_SECONDS"])


@dataclass(frozen=True)
class BatchResult:
    claimed: int = 0
    submitted: int = 0
    refused: int = 0
    skipped: int = 0
    done: bool = False
    held_until: datetime | None = None  # naive UTC
    reason: str = ""  # why it is held, when its gateway would not take it


# What one batch reads of the settings: in one query (they were seven), every batch, so
# that a change is seen at once.
_BATCH_SETTINGS = (
    "sending_days",
    "sending_start",
    "sending_end",
    "batch_size",
    "messages_per_second",
    "pressure_max",
    "pressure_days",
)


def _per_gateway(value: int | dict[str, int], gateway_name: str) -> int:
    return value.get(gateway_name, 0) if isinstance(value, dict) else value


def send_next_batch(
    campaign_id: int,
    *,
    gateway: Gateway | None = None,
    worker: str = "",
    now: datetime | None = None,
    share: int = 1,
) -> BatchResult:
    """Claim and send one batch of the campaign; say whether it is done or held. `share`:
    how many workers send it side by side (each keeps to its part of the link's rate)."""
    now = now or utcnow()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status not in ("scheduled", "queued", "sending"):
        return BatchResult(done=True)
    if campaign.not_before and campaign.not_before > now:
        return BatchResult(held_until=campaign.not_before)
    values = settings.get_many(_BATCH_SETTINGS, campaign.store_id)
    if campaign.kind == MARKETING:
        window = sending_window(values=values)
        if not hours.is_allowed(now, window):
            resume = hours.next_allowed(now, window)
            campaign.not_before = to_utc(resume)
            campaign.status_note = formats.keep(
                N_("En attente des heures d'envoi : reprise le %(when)s.", when=resume)
            )
            db.session.commit()
            return BatchResult(held_until=campaign.not_before)

    gateway = gateway or get_gateway()
    side_by_side = db.session.connection().dialect.name == "postgresql"
    try:
        _open(gateway)
    except GatewayUnavailable as error:
        return _hold_for_link(campaign, gateway, error, now)
    _clear_link_note(campaign.id)
    if campaign.status != "sending":
        # Compare-and-set: « Annuler la programmation » may have moved it back to draft
        # (credits released) since it was read; then this worker must not send it.
        # Nor start one moved to a later time (« Reprogrammer ») since it was read.
        due = or_(Campaign.not_before.is_(None), Campaign.not_before <= now)
        started = claim_status(
            campaign.id,
            ("scheduled", "queued"),
            "sending",
            also=(due,),
            started_at=campaign.started_at or now,
            gateway=gateway.name,
            status_note="",
        )
        if not started:
            db.session.rollback()
            campaign = db.session.get(Campaign, campaign_id)
            if campaign is None or campaign.status != "sending":
                return BatchResult(done=True)
        elif side_by_side:
            drop_groups(campaign.id)  # the list is no longer a draft: what it costs goes
            # Committed at once: the other workers, waiting on this row, start claiming
            # from the list too instead of waiting for this worker's first batch.
            db.session.commit()
        else:
            # In the transaction that claimed it: whoever starts the campaign, once.
            materialize(campaign.id)
    size = _per_gateway(values["batch_size"], gateway.name) or 500
    # With a transactional gateway the claim, the submission and its record commit
    # together, so the claim can write "submitted" at once (one UPDATE per batch) and
    # anything skipped or refused below is corrected before the commit.
    claimed_state = "submitted" if gateway.transactional else "pending"
    token = f"{worker}:{uuid.uuid4().hex}"
    cap = (values["pressure_max"], values["pressure_days"])
    # Messages back to pending first (released by a dead worker, slowed by the operator),
    # then, side by side, the next rows of the list, checked as they become messages.
    rows = _claim(campaign.id, size, token, gateway.name, now, state=claimed_state)
    skipped_ids: set[int] = set()
    if rows:
        skipped_ids = _check_again(
            campaign, [row.id for row in rows], now, state=claimed_state, cap=cap
        )
    elif side_by_side:
        rows = _claim_from_list(campaign, size, token, gateway.name, now, state=claimed_state)
        sendable = [row.id for row in rows if row.state == claimed_state]
        skipped_ids = {row.id for row in rows if row.state != claimed_state}
        skipped_ids |= _check_pressure(campaign, sendable, now, state=claimed_state, cap=cap)
    if not rows:
        db.session.commit()
        finish(campaign.id)
        return BatchResult(done=True)
    claimed = [row.id for row in rows]
    outgoing = [
        OutgoingSms(row.id, row.phone, row.text, campaign.sender_id, row.parts)
        for row in rows
        if row.id not in skipped_ids
    ]
    skipped = len(skipped_ids)
    submitted = refused = 0
    # Side by side, each of `share` workers keeps to its part of the link's rate.
    rate = _per_gateway(values["messages_per_second"], gateway.name) / share
    pause = 0.0
    if gateway.transactional:
        began = time.monotonic()
        results = gateway.submit(outgoing)
        refused = _refuse([r for r in results if not r.accepted], now, state="submitted")
        submitted = len(results) - refused
        db.session.commit()
        if rate:  # the simulation can be throttled like an operator's link
            pause = max(0.0, len(outgoing) / rate - (time.monotonic() - began))
    else:
        db.session.commit()  # the claim and the skips are durable before anything leaves
        # A paced link goes out 16 at a time (smooth, few rows uncertain if the worker
        # dies); an unpaced one in the gateway's bigger chunks (fewer commits and waits).
        chunk = 16 if rate else getattr(gateway, "chunk_size", 16)
        if not rate and hasattr(gateway, "submit_later"):
            submitted, refused = _submit_overlapped(gateway, outgoing, chunk)
        else:
            for start in range(0, len(outgoing), chunk):
                began = time.monotonic()
                handed = _hand_over([m.message_id for m in outgoing[start : start + chunk]])
                db.session.commit()  # "submitting" is on disk before the requests leave
                try:
                    answers = gateway.submit([m for m in outgoing if m.message_id in handed])
                except GatewayUnavailable as error:  # nothing of this chunk left
                    _release(token, handed)
                    return _hold_for_link(campaign, gateway, error, now)
                ok, ko = _record(answers, utcnow(), gateway.name)
                db.session.commit()
                submitted, refused = submitted + ok, refused + ko
                if rate:  # at most `rate` messages a second on this link
                    time.sleep(max(0.0, len(handed) / rate - (time.monotonic() - began)))
    gateway.after_commit()
    time.sleep(pause)
    return BatchResult(claimed=len(claimed), submitted=submitted, refused=refused, skipped=skipped)


def _submit_overlapped(
    gateway: Any, outgoing: Sequence[OutgoingSms], chunk: int
) -> tuple[int, int]:
    """An unpaced link that takes requests ahead (gateway.submit_later): each chunk is
    handed over and committed, then its requests queued behind those of the chunk before,
    whose answers are recorded meanwhile; so the link never waits for our commits nor for
    the slowest request of a chunk. "submitting" is still on disk before a request
    leaves, and at most two chunks are uncertain if the worker dies. If the link fails,
    the requests not started are cancelled, those started finish, and the error goes up
    with both chunks left "submitting", as submit's callers leave one. Returns
    (submitted, refused)."""
    submitted = refused = 0
    before: list[Any] = []  # the futures of the chunk before, in flight
    current: list[Any] = []
    try:
        for start in range(0, len(outgoing) + chunk, chunk):
            part = outgoing[start : start + chunk]
            current = []
            if part:
                handed = _hand_over([m.message_id for m in part])
                db.session.commit()  # "submitting" is on disk before the requests leave
                current = gateway.submit_later([m for m in part if m.message_id in handed])
            if before:
                answers = [future.result() for future in before]
                ok, ko = _record(answers, utcnow(), gateway.name)
                db.session.commit()
                submitted, refused = submitted + ok, refused + ko
            before = current
    except BaseException:
        for future in (*before, *current):
            future.cancel()
        wait([*before, *current])
        raise
    return submitted, refused


# A campaign held because its gateway refused us tries again after this many seconds;
# the note says why, and it clears itself once the link is back.
LINK_RETRY_SECONDS = 30
LINK_NOTE_END = "l'envoi reprendra de lui-même dès que la connexion sera rétablie."
# The note of a campaign held for its link (with the gateway's reason).
LINK_NOTE = N_("%(reason)s : l'envoi reprendra de lui-même dès que la connexion sera rétablie.")


def _open(gateway: Gateway) -> None:
    """Make the gateway's link ready; its reading goes to the supervision page."""
    opener = getattr(gateway, "open", None)
    if opener is None:
        return
    link = getattr(gateway, "link_name", gateway.name)
    try:
        opener()
    except GatewayUnavailable as error:
        link_status.record(link, False, error.reason)
        raise
    link_status.record(link, True, "liée")


def _hold_for_link(
    campaign: Campaign, gateway: Gateway, error: GatewayUnavailable, now: datetime
) -> BatchResult:
    """Nothing left and nothing is lost: the campaign says why it waits (its staff see
    « Connexion SMPP refusée : mot de passe ») and tries again in a while."""
    db.session.rollback()
    link_status.record(getattr(gateway, "link_name", gateway.name), False, error.reason)
    # Kept to be said in the reader's language; the gateway's reason as its French words
    # (a nested sentence would not fit the column), which formats.said reads again.
    note = formats.keep(N_(LINK_NOTE, reason=str(error.reason)))
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(status_note=note))
    db.session.commit()
    return BatchResult(held_until=now + timedelta(seconds=LINK_RETRY_SECONDS), reason=error.reason)


def _release(token: str, handed: Iterable[int]) -> None:
    """A batch the gateway would not take: its rows back to pending, unclaimed."""
    db.session.execute(
        update(Message)
        .where(ids_in(Message.id, list(handed)), Message.state == "submitting")
        .values(state="pending", claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Message)
        .where(Message.claimed_by == token, Message.state == "pending")
        .values(claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _clear_link_note(campaign_id: int) -> None:
    db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status_note.contains(LINK_NOTE_END))
        .values(status_note="")
    )


def _hand_over(ids: Sequence[int]) -> set[int]:
    """pending → submitting for the rows about to leave (a cancel may have taken some)."""
    if not ids:
        return set()
    return set(
        db.session.scalars(
            update(Message)
            .where(ids_in(Message.id, ids), Message.state == "pending")
            .values(state="submitting")
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
    )


def _claim(
    campaign_id: int,
    size: int,
    token: str,
    gateway_name: str,
    now: datetime,
    *,
    state: str = "pending",
) -> list[Row]:
    """Claim up to `size` pending rows in one statement; returns them (id, phone, text,
    parts). SKIP LOCKED lets workers claim side by side on PostgreSQL; SQLite runs one
    writer at a time, and the guard in the UPDATE keeps a row from being claimed twice.
    `state="submitted"` is for a transactional gateway (see send_next_batch)."""
    pending = (
        select(Message.id)
        .where(
            Message.campaign_id == campaign_id,
            Message.state == "pending",
            Message.claimed_by.is_(None),
        )
        .order_by(Message.id)
        .limit(size)
    )
    if db.session.connection().dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    claimed = db.session.execute(
        update(Message)
        .where(Message.id.in_(pending.scalar_subquery()), Message.claimed_by.is_(None))
        .values(
            claimed_by=token,
            claimed_at=now,
            gateway=gateway_name,
            state=state,
            submitted_at=now if state == "submitted" else None,
        )
        .returning(Message.id, Message.phone, Message.text, Message.parts)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed, key=lambda row: row.id)


ids_in = any_of  # one array parameter on PostgreSQL (models.base)


def _check_again(
    campaign: Campaign,
    ids: Sequence[int],
    now: datetime,
    *,
    state: str = "pending",
    cap: tuple[Any, Any] | None = None,
) -> set[int]:
    """Consent and opt-outs can change between the draft and the send: check the one
    rule (services.eligibility) again now, on the claimed rows (in `state`), in one
    UPDATE joined to the clients and the opt-out list. Returns the ids skipped. `cap`:
    the pressure settings (pressure_max, pressure_days) when the caller read them
    already."""
    marketing = campaign.kind == MARKETING
    # The number is the row's (corrected by hand, or a test SMS's); no client: a bare number.
    reason = eligibility.reason_case(campaign.kind, eligibility.Columns(phone=Message.phone))
    query = select(Message.id.label("id"), reason.label("reason")).outerjoin(
        Client, Client.id == Message.client_id
    )
    if marketing:
        query = eligibility.join_optouts(query, Message.phone)
    found = query.where(ids_in(Message.id, ids)).subquery()
    skipped = set(
        db.session.scalars(
            update(Message)
            .where(Message.id == found.c.id, found.c.reason.is_not(None), Message.state == state)
            .values(state="skipped", skip_reason=found.c.reason, done_at=now, submitted_at=None)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
    )
    return skipped | _check_pressure(campaign, ids, now, state=state, cap=cap)


def _check_pressure(
    campaign: Campaign,
    ids: Sequence[int],
    now: datetime,
    *,
    state: str,
    cap: tuple[Any, Any] | None = None,
) -> set[int]:
    """« Pression marketing »: another campaign may have texted them since the draft.
    Skips the claimed rows (in `state`) of clients now over the cap; returns their ids."""
    cap = pressure_cap() if cap is None else pressure_cap(*cap)
    if campaign.kind != MARKETING or cap is None or not ids:
        return set()
    # The clients as a sub-SELECT of the claimed rows (no list of ids to expand), and
    # their rows read only when one of them is over the cap (seldom).
    claimed = (ids_in(Message.id, ids), Message.state == state)
    over = over_pressure(
        select(Message.client_id).where(*claimed),
        now=now,
        except_campaign=campaign.id,
        except_sms=ids,
        cap=cap,
    )
    if not over:
        return set()
    rows: dict[int, list[int]] = {}
    for row_id, client_id in db.session.execute(
        select(Message.id, Message.client_id).where(*claimed, Message.client_id.in_(list(over)))
    ):
        if client_id is not None:  # it is: a client over the cap
            rows.setdefault(client_id, []).append(row_id)
    return skip_pressure(Message, rows, over, state=state, done_at=now, submitted_at=None)


# Where each campaign's last batch taken from its list by this process ended: (state, id),
# by (campaign id, its creation time): a campaign id alone may name another database's.
_list_place: dict[tuple[int, datetime], tuple[str, int]] = {}


def _claim_from_list(
    campaign: Campaign, size: int, token: str, gateway_name: str, now: datetime, *, state: str
) -> list[Row[Any]]:
    """PostgreSQL: the next `size` rows of the campaign's recipient list that no other
    worker is taking (SKIP LOCKED) leave the list and become its messages, claimed, in
    one statement (DELETE … RETURNING feeding INSERT … SELECT), with the one rule
    (services.eligibility) checked again on the way: consent and opt-outs may have
    changed since the draft. A row the list had skipped stays skipped; a row the rule now
    refuses is skipped with its reason; the others are claimed in `state` (see _claim).
    A worker that dies before its commit moved nothing: the rows are still on the list.
    Returns the new messages (id, phone, text, parts, state), pending rows first, each
    state in list order."""
    # In the order of ix_draft_recipients_campaign_state (campaign, state, id), from where
    # this worker's last batch ended: the index is entered there and read for `size`
    # rows. From the start each time, every batch walked the index entries of the rows
    # already taken (dead until PostgreSQL's vacuum): 0.05-0.4 s a batch at 1,000,000.
    place = (campaign.id, campaign.created_at)
    after = _list_place.get(place)
    picked = select(DraftRecipient.state, DraftRecipient.id).where(
        DraftRecipient.campaign_id == campaign.id
    )
    if after is not None:
        picked = picked.where(tuple_(DraftRecipient.state, DraftRecipient.id) > after)
    found = db.session.execute(
        picked.order_by(DraftRecipient.state, DraftRecipient.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    ).all()
    if not found:
        if after is None:
            return []
        # Past the end: rows left behind (another worker's, back on the list when it
        # died) are found from the start.
        del _list_place[place]
        return _claim_from_list(campaign, size, token, gateway_name, now, state=state)
    _list_place[place] = (found[-1].state, found[-1].id)
    listed = DraftRecipient.__table__.c
    moved = (
        delete(DraftRecipient)
        .where(ids_in(DraftRecipient.id, [row.id for row in found]))
        .returning(
            listed.id,
            listed.client_id,
            listed.phone,
            listed.text,
            listed.parts,
            listed.state,
            listed.skip_reason,
            listed.variant,
        )
        .cte("moved")
    )
    m = moved.c
    reason = eligibility.reason_case(campaign.kind, eligibility.Columns(phone=m.phone))
    checked = (
        select(*m, reason.label("reason"))
        .select_from(moved)
        .outerjoin(Client, Client.id == m.client_id)
    )
    if campaign.kind == MARKETING:
        checked = eligibility.join_optouts(checked, m.phone)
    f = checked.subquery().c
    listed_skipped = f.state != "pending"
    refused = f.reason.is_not(None)
    sent = ~listed_skipped & ~refused
    columns = {
        "campaign_id": literal(campaign.id),
        "client_id": f.client_id,
        "phone": f.phone,
        "text": f.text,
        "parts": f.parts,
        "state": case((listed_skipped, f.state), (refused, "skipped"), else_=literal(state)),
        "skip_reason": case((listed_skipped, f.skip_reason), (refused, f.reason), else_=""),
        "variant": f.variant,
        "error": literal(""),
        "gateway": case((sent, literal(gateway_name)), else_=""),
        "created_at": literal(now),
        "claimed_by": case((sent, literal(token))),
        "claimed_at": case((sent, literal(now))),
        "submitted_at": case((sent, literal(now))) if state == "submitted" else null(),
        "done_at": case((refused & ~listed_skipped, literal(now))),
    }
    # The list's groups went when the campaign started (drop_groups).
    with groups_stand_aside(db.session.connection()):
        made: list[Row[Any]] = db.session.execute(
            insert(Message)
            .from_select(list(columns), select(*columns.values()).order_by(f.id))
            .returning(Message.id, Message.phone, Message.text, Message.parts, Message.state)
        ).all()  # type: ignore[assignment]  # RETURNING's row type is narrower than Row[Any]
    return sorted(made, key=lambda row: row.id)


def _record(results: Sequence[Submitted], now: datetime, gateway_name: str = "") -> tuple[int, int]:
    accepted = [r.message_id for r in results if r.accepted and r.ref is None]
    if accepted:
        # A delivery report faster than our commit may have moved a row on already:
        # keep its state, but it was submitted all the same.
        db.session.execute(
            update(Message)
            .where(ids_in(Message.id, accepted))
            .values(
                state=case((Message.state == "submitting", "submitted"), else_=Message.state),
                submitted_at=func.coalesce(Message.submitted_at, now),
            )
            .execution_options(synchronize_session=False)
        )
    refs: list[str] = []
    for result in results:
        if result.accepted and result.ref is not None:
            # The operator's id: its delivery receipts name the message by it (SMPP).
            db.session.execute(
                update(Message)
                .where(Message.id == result.message_id, Message.state == "submitting")
                .values(state="submitted", gateway_ref=result.ref, submitted_at=now)
            )
            refs.append(result.ref)
        if result.accepted and result.part_refs:
            # Each part has its receipt: the message is as good as its worst part.
            db.session.execute(
                insert(MessagePart),
                [
                    {
                        "message_id": result.message_id,
                        "seq": seq,
                        "gateway": gateway_name,
                        "gateway_ref": ref,
                        "state": "submitted",
                        "error": "",
                    }
                    for seq, ref in enumerate(result.part_refs, 1)
                ],
            )
            refs.extend(result.part_refs)
    if refs:
        delivery.apply_early(gateway_name, refs, now=now)  # receipts faster than us
    held = [r.message_id for r in results if r.retry]
    if held:
        # Nothing of them left (the operator asked us to slow down): back to pending,
        # unclaimed, for the next batch; never failed for it.
        db.session.execute(
            update(Message)
            .where(ids_in(Message.id, held), Message.state == "submitting")
            .values(state="pending", claimed_by=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
    refused = _refuse([r for r in results if r.error], now, state="submitting")
    return len(results) - refused - len(held), refused


def _refuse(results: Sequence[Submitted], now: datetime, *, state: str) -> int:
    """The gateway said no: failed, with its reason, and not submitted (not charged)."""
    for result in results:
        db.session.execute(
            update(Message)
            .where(Message.id == result.message_id, Message.state == state)
            .values(state="failed", error=result.error[:200], done_at=now, submitted_at=None)
        )
    return len(results)


def finish(campaign_id: int) -> bool:
    """When nothing is left to send: mark it sent, charge what went out, refund the rest."""
    remaining = db.session.scalar(
        select(func.count(Message.id)).where(
            Message.campaign_id == campaign_id, Message.state.in_(("pending", "submitting"))
        )
    )
    # Rows still on its list: a chunk another worker is moving (not committed yet).
    listed = select(DraftRecipient.id).where(DraftRecipient.campaign_id == campaign_id)
    if remaining or db.session.scalar(listed.limit(1)) is not None:
        return False
    ended = cast(  # Session.execute is typed as returning a Result
        CursorResult,
        db.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status.in_(("queued", "sending")))
            .values(status="sent", finished_at=utcnow())
        ),
    ).rowcount
    credits.settle(campaign_id)
    if ended:
        # Its recipients are final: its « Résultats » are kept from now on as sales
        # come in, starting with those since it started (a few hours of the chain's).
        results.start_keeping(db.session.get(Campaign, campaign_id))
    db.session.commit()
    return True


def recover_stale(
    *, gateway: Gateway | None = None, now: datetime | None = None
) -> tuple[int, int]:
    """What a dead worker left: claims that never left are released; rows it handed
    over are confirmed if the gateway took them, else pending again.
    Returns (confirmed, released)."""
    now = now or utcnow()
    # Abandoned: its worker stopped beating (a few seconds after it died), or, whoever
    # made it, the claim is older than CLAIM_STALE_SECONDS.
    abandoned = (Message.claimed_at < now - stale_after()) | (
        (Message.claimed_at < now - dead_after()) & ~claimed_by_a_living_worker(now)
    )
    unstarted = cast(  # Session.execute is typed as returning a Result
        CursorResult,
        db.session.execute(
            update(Message)
            .where(
                Message.state == "pending",
                Message.claimed_by.is_not(None),
                abandoned,
            )
            .values(claimed_by=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    stale = list(
        db.session.scalars(select(Message.id).where(Message.state == "submitting", abandoned))
    )
    if not stale:
        db.session.commit()
        return 0, unstarted
    gateway = gateway or get_gateway()
    taken = gateway.received(stale) or set()
    confirmed = [i for i in stale if i in taken]
    released = [i for i in stale if i not in taken]
    if confirmed:
        db.session.execute(
            update(Message)
            .where(ids_in(Message.id, confirmed), Message.state == "submitting")
            .values(state="submitted", submitted_at=func.coalesce(Message.submitted_at, now))
        )
    if released:
        db.session.execute(
            update(Message)
            .where(ids_in(Message.id, released), Message.state == "submitting")
            .values(state="pending", claimed_by=None, claimed_at=None)
        )
    db.session.commit()
    if confirmed:
        gateway.after_commit()
    return len(confirmed), unstarted + len(released)


def campaigns_due(now: datetime | None = None) -> list[int]:
    """Campaigns that should be moving now: queued, sending, or deferred and due. The
    sweep enqueues those whose job Redis lost (worker.sweep checks the job)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Campaign.id).where(
                Campaign.status.in_(("scheduled", "queued", "sending")),
                (Campaign.not_before.is_(None)) | (Campaign.not_before <= now),
            )
        )
    )
