"""A marketing campaign's « Liste des destinataires »: frozen from a selection into a
draft, corrected by hand (a row removed or restored, a phone fixed), then given its
text, rendered and costed for every recipient.

Every function takes the acting user and refuses a campaign of another store (staff
build campaigns for their store's clients only; head office for any store).
"""

import json
import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeAlias

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    Row,
    Select,
    Text,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy import text as sql

from .. import access, formats, selection
from ..access import Person
from ..extensions import db
from ..models import (
    AuditEntry,
    Campaign,
    CampaignCount,
    Client,
    CreditEntry,
    DraftGroup,
    DraftRecipient,
    Message,
    Store,
    User,
    utcnow,
)
from ..models.base import among
from ..models.followup import FollowupTask
from ..sms import encoding, hours, phones, sender
from ..sms.cost import PLAIN, SHAPE_LETTERS, Overflow, final_text
from ..sms.said import N_
from . import (
    audit,
    background,
    campaigns,
    costing,
    credits,
    eligibility,
    listings,
    pressure,
    results,
    sending_hours,
    settings,
    skip_reasons,
    variants,
)
from .campaign_status import ALREADY_GONE, CampaignError, claim_status
from .client_fields import phone_fields
from .draft_list import groups_stand_aside, materialize
from .eligibility import DUPLICATE, MARKETING, opted_out_numbers, skip_reason


def get(user: Person, campaign_id: int, *statuses: str) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not access.may_see_store(user, campaign.store_id):
        raise CampaignError(_l("Cet envoi n'existe pas ou n'est pas de votre magasin."))
    if statuses and campaign.status not in statuses:
        raise CampaignError(
            _l("Cet envoi a déjà été programmé ou envoyé : il ne peut plus changer.")
        )
    return campaign


def _editing(user: Person, campaign_id: int) -> Campaign:
    """The draft, locked for this transaction: a change to its list waits for a compose
    or a send in progress (which rewrites the rows), then finds the campaign still a
    draft or refuses. A change after « Envoyer » would alter what was paid for."""
    campaign = get(user, campaign_id, "draft")
    if not claim_status(campaign.id, ("draft",), "draft"):
        db.session.rollback()
        raise CampaignError(ALREADY_GONE)
    return campaign


def criteria_of(campaign: Campaign) -> selection.Criteria:
    try:
        return selection.Criteria.from_dict(json.loads(campaign.criteria or "{}"))
    except (ValueError, TypeError):
        return selection.Criteria()


def draft_from_selection(
    user: Person,
    criteria: selection.Criteria,
    *,
    store_id: int | None = None,
    today: date | None = None,
    replaces: int | None = None,
) -> Campaign:
    """Freeze the clients the criteria find into a draft: one message row each, pending
    or skipped with the reason, written by one INSERT … SELECT (no row goes through
    Python). Staff's selection is always their own store's clients."""
    scope = access.store_scope(user)
    campaign_store = scope if scope is not None else store_id
    if not settings.sms_enabled(campaign_store):  # « Activer le module SMS »
        raise CampaignError(settings.SMS_DISABLED)
    if replaces is None:
        replaces = _untouched_draft(user, criteria, campaign_store)
    typed = {"add_stop": True, "sender_id": settings.get("sender_id", campaign_store)}
    if replaces is not None:  # « Modifier les critères de sélection » on a draft
        old = get(user, replaces, "draft")
        # The new list keeps what was typed for the old one (issue 14).
        typed = {
            "body": old.body,
            "sender_id": old.sender_id,
            "add_stop": old.add_stop,
            "body_b": old.body_b,
            "split_b": old.split_b,
        }
        _delete(old)
    campaign = Campaign(
        kind=MARKETING,
        store_id=campaign_store,
        created_by_id=user.id,
        criteria=json.dumps(criteria.to_dict()),
        **typed,
    )
    db.session.add(campaign)
    db.session.flush()
    if db.session.connection().dialect.name == "postgresql":
        # Finding duplicate numbers sorts the whole selection: in memory, not on disk.
        db.session.execute(sql("SET LOCAL work_mem = '64MB'"))
    db.session.execute(
        _insert_recipients(
            campaign.id,
            criteria,
            today=today,
            store_id=scope,
            dialect=db.session.connection().dialect.name,
        )
    )
    found = db.session.scalar(
        select(func.count(DraftRecipient.id)).where(DraftRecipient.campaign_id == campaign.id)
    )
    if not found:
        db.session.rollback()
        raise CampaignError(
            _l("Aucun client ne correspond à ces critères : élargissez la sélection.")
        )
    if db.session.connection().dialect.name == "postgresql":
        # The list's group triggers look for a group's next first client along
        # ix_draft_recipients_pending_grp, one probe per group; on a list the planner
        # knows nothing of, it read the campaign's every pending row per group instead
        # (150 s to skip 33,000 clients at the pressure cap, a group each). ANALYZE
        # samples the table (its rows of this transaction included): a fraction of a
        # second at a million rows.
        db.session.execute(sql("ANALYZE draft_recipients"))
    _skip_over_pressure(campaign)
    # After every exclusion, so that the texted and the held out are alike.
    results.hold_out(campaign)
    variants.assign(campaign)  # the texted only, the control group kept apart
    _refresh_count(campaign)
    audit.record("campaign.draft", user=user, store_id=campaign_store, obj=campaign)
    db.session.commit()
    return campaign


def _skip_over_pressure(campaign: Campaign) -> None:
    """« Pression marketing »: the clients who already had their marketing SMS of the
    period are skipped, with how many and since when (checked again at send time)."""
    pending = select(DraftRecipient.client_id).where(
        DraftRecipient.campaign_id == campaign.id, DraftRecipient.state == "pending"
    )
    over = pressure.over_pressure(pending)
    if not over:
        return
    rows: dict[int, list[int]] = {}
    for part in among(DraftRecipient.client_id, over):
        for row_id, client_id in db.session.execute(
            select(DraftRecipient.id, DraftRecipient.client_id).where(
                DraftRecipient.campaign_id == campaign.id,
                DraftRecipient.state == "pending",
                part,
            )
        ):
            rows.setdefault(client_id, []).append(row_id)
    pressure.skip_pressure(DraftRecipient, rows, over)


def live_count(
    user: Person, criteria: selection.Criteria, *, today: date | None = None
) -> selection.Count:
    """The selection screen's count: selection.count, with the clients over the marketing
    pressure cap among the reachable counted as an exclusion of their own."""
    store_id = access.store_scope(user)
    if db.session.connection().dialect.name == "postgresql":
        # The distinct numbers counted and the period's SMS gathered in memory, not on
        # disk (a selection of 100,000 clients).
        db.session.execute(sql("SET LOCAL work_mem = '32MB'"))
    count = selection.count(criteria, db.session, today=today, store_id=store_id)
    cap = pressure.pressure_cap()
    if not count.reachable or cap is None:
        return count
    reachable = eligibility.join_optouts(
        selection.ids_query(criteria, today=today, store_id=store_id).order_by(None)
    ).where(eligibility.reachable(MARKETING))
    over = pressure.count_over_pressure(reachable, cap=cap)
    if not over:
        return count
    excluded = dict(count.excluded) | {"pressure": over}
    return selection.Count(
        found=count.found, reachable=max(0, count.reachable - over), excluded=excluded
    )


def _untouched_draft(
    user: Person, criteria: selection.Criteria, store_id: int | None
) -> int | None:
    """The user's newest draft of the same selection that nothing was done to yet (no
    text, no row removed by hand): building again replaces it rather than piling up
    drafts, and its list is made afresh from today's cards."""
    candidates = db.session.scalars(
        select(Campaign.id)
        .where(
            Campaign.status == "draft",
            Campaign.kind == MARKETING,
            Campaign.created_by_id == user.id,
            Campaign.body == "",
            Campaign.body_b == "",
            Campaign.criteria == json.dumps(criteria.to_dict()),
            Campaign.store_id.is_(None) if store_id is None else Campaign.store_id == store_id,
        )
        .order_by(Campaign.id.desc())
        .limit(1)
    ).all()
    for campaign_id in candidates:
        touched = db.session.scalar(
            select(DraftRecipient.id)
            .where(
                DraftRecipient.campaign_id == campaign_id, DraftRecipient.skip_reason == "removed"
            )
            .limit(1)
        )
        if touched is None and not _has_ledger_lines(campaign_id):
            return campaign_id
    return None


def _has_ledger_lines(campaign_id: int) -> bool:
    line = select(CreditEntry.id).where(CreditEntry.campaign_id == campaign_id).limit(1)
    return db.session.scalar(line) is not None


def _delete(campaign: Campaign) -> bool:
    """A draft and its rows go; one that once held credits (scheduled, then called back)
    stays, cancelled, so its ledger lines keep naming it."""
    linked = _has_ledger_lines(campaign.id) or db.session.scalar(
        select(FollowupTask.id).where(FollowupTask.campaign_id == campaign.id).limit(1)
    )
    if linked:
        materialize(campaign.id, cancelled=True)
        campaign.status, campaign.finished_at = "cancelled", utcnow()
        return False
    # The groups first: with them gone, the list's triggers have no group to recount.
    db.session.execute(delete(DraftGroup).where(DraftGroup.campaign_id == campaign.id))
    db.session.execute(delete(DraftRecipient).where(DraftRecipient.campaign_id == campaign.id))
    db.session.execute(delete(Message).where(Message.campaign_id == campaign.id))
    db.session.delete(campaign)
    return True


def quit_draft(user: Person, campaign_id: int) -> None:
    """« Quitter » a campaign not sent: the draft is dropped with its list."""
    campaign = get(user, campaign_id, "draft")
    if not claim_status(campaign.id, ("draft",), "draft"):
        raise CampaignError(ALREADY_GONE)
    audit.record("campaign.quit", user=user, store_id=campaign.store_id, obj=campaign)
    _delete(campaign)
    db.session.commit()


def delete_stale_drafts(days: int = 7, *, now: datetime | None = None) -> int:
    """The nightly sweep: drafts nobody went back to for `days` days. Returns how many
    were removed."""
    limit = (now or utcnow()) - timedelta(days=days)
    removed = 0
    stale = db.session.scalars(
        select(Campaign).where(Campaign.status == "draft", Campaign.created_at < limit)
    ).all()
    for campaign in stale:
        # Only if it is still a draft now (locked): not one sent from an old tab meanwhile.
        if claim_status(campaign.id, ("draft",), "draft"):
            removed += bool(_delete(campaign))
    db.session.commit()
    return removed


def card_shape(dialect: str) -> ColumnElement[str]:
    """DraftRecipient.grp of a client, in SQL: [store id, civility, first name, last
    name] with the names shaped as sms.cost.shape does (PostgreSQL's translate, SQLite's
    cost_shape function: extensions.py), as JSON."""
    if dialect == "postgresql":

        def shaped(column: Any) -> ColumnElement[str]:
            value = func.coalesce(column, "")
            core = func.btrim(value, " ")
            plain = "^[" + PLAIN.replace("-", "") + "-]*$"
            return case(
                (core.op("~")(plain), func.repeat("A", func.char_length(core))),
                else_=func.translate(value, SHAPE_LETTERS, "A" * len(SHAPE_LETTERS)),
            )

        first, last = shaped(Client.first_name), shaped(Client.last_name)
        pack = func.json_build_array
    else:
        first, last = func.cost_shape(Client.first_name), func.cost_shape(Client.last_name)
        pack = func.json_array
    return cast(pack(Client.store_id, func.coalesce(Client.civility, ""), first, last), Text)


def _insert_recipients(
    campaign_id: int,
    criteria: selection.Criteria,
    *,
    today: date | None,
    store_id: int | None,
    dialect: str,
) -> Insert:
    """The reasons of the one rule (services.eligibility), in its order; a number already
    given to an earlier client (by id) of the selection is a duplicate. Each row has its
    card's shape (card_shape), which the list's groups count."""
    where = selection.client_conditions(criteria, today=today, store_id=store_id)
    rank = eligibility.duplicate_rank(eligibility.reachable(MARKETING))
    reason = case(
        *((cond, why) for why, cond in eligibility.conditions(MARKETING)),
        (rank > 1, DUPLICATE),
        else_="",
    )
    query = eligibility.join_optouts(
        select(
            Client.id.label("client_id"),
            func.coalesce(Client.sms_number, "").label("phone"),
            reason.label("reason"),
            card_shape(dialect).label("grp"),
            # The list's order, given once: its pages are read along an index (page()).
            func.row_number()
            .over(order_by=(Client.last_name, Client.first_name, Client.id))
            .label("name_order"),
        )
    )
    found = query.where(true(), *where).subquery()
    rows = select(
        literal(campaign_id),
        found.c.client_id,
        found.c.phone,
        literal(""),
        literal(0),
        case((found.c.reason == "", "pending"), else_="skipped"),
        found.c.reason,
        found.c.grp,
        found.c.name_order,
    ).order_by(found.c.client_id)
    columns = [
        "campaign_id",
        "client_id",
        "phone",
        "text",
        "parts",
        "state",
        "skip_reason",
        "grp",
        "name_order",
    ]
    return insert(DraftRecipient).from_select(columns, rows, include_defaults=False)


def pending_client_ids(campaign_id: int, variant: str | None = None) -> Select[int]:
    """The clients a draft will text (those of one variant of an A/B campaign), as a
    query (for the composer's exact cost)."""
    query = (
        select(DraftRecipient.client_id)
        .where(DraftRecipient.campaign_id == campaign_id, DraftRecipient.state == "pending")
        .order_by(DraftRecipient.client_id)
    )
    if variant:
        query = query.where(DraftRecipient.variant == variant)
    return query


@dataclass(frozen=True)
class Summary:
    recipients: int
    skipped: dict[str, int]  # reason -> number
    removed: int
    control: int = 0  # the « groupe témoin »: held out, not excluded
    variants: dict[str, int] | None = None  # A/B texts: {"A": rows, "B": rows} to be texted


def summary(campaign_id: int) -> Summary:
    # The rows to be texted from the kept counts; only the set-aside ones (fewer) are
    # read, for their reasons.
    counts = dict(
        db.session.execute(
            select(DraftRecipient.skip_reason, func.count())
            .where(DraftRecipient.campaign_id == campaign_id, DraftRecipient.state == "skipped")
            .group_by(DraftRecipient.skip_reason)
        ).all()
    )
    for reason in [r for r in counts if r.startswith(pressure.PRESSURE + ":")]:
        counts[pressure.PRESSURE] = counts.get(pressure.PRESSURE, 0) + counts.pop(reason)
    split = variants.pending_counts(campaign_id)
    pending = sum(split.values())
    removed = counts.pop("removed", 0)
    control = counts.pop(results.CONTROL, 0)
    ab = {v: split[v] for v in variants.VARIANTS} if split["A"] or split["B"] else None
    return Summary(
        recipients=pending, skipped=counts, removed=removed, control=control, variants=ab
    )


def set_control_share(user: Person, campaign_id: int, raw: object) -> Campaign:
    """« Groupe témoin » of a draft: a share of 0 to 50 %, drawn again among the rows
    to be texted (the same share on the same list gives the same group)."""
    share, error = results.clean_share(raw)
    if error:
        raise CampaignError(error)
    campaign = _editing(user, campaign_id)
    held = results.hold_out(campaign, share)
    variants.assign(campaign)  # drawn again among those texted now
    audit.record(
        "campaign.control_share",
        user=user,
        store_id=campaign.store_id,
        obj=campaign,
        share=share,
        held=held,
    )
    if campaign.body:
        _freeze_texts(campaign)  # rows back from the control group need their text
    db.session.commit()
    return campaign


@dataclass(frozen=True)
class RecipientPage(listings.Page):
    """A page of the list, read from a place in its order (DraftRecipient.name_order):
    « Suivant » asks for the rows from the place after the last one shown, « Précédent »
    for those before the first one, a change on the page for the same rows again."""

    first_place: int = 0  # of the first row shown (0: none shown)
    last_place: int = 0
    earlier: bool = False  # rows before the first one shown
    later: bool = False  # rows after the last one shown

    @property
    def has_previous(self) -> bool:
        return self.earlier

    @property
    def has_next(self) -> bool:
        return self.later


def page(
    campaign_id: int,
    *,
    show: str = "pending",
    number: int = 1,
    per_page: int = 15,
    since: int | None = None,
    before: int | None = None,
) -> RecipientPage:
    """One page of the list (name, phone, store code, store, as StarMag shows it), in
    name order: the rows from the place `since`, or the page before the place `before`,
    or else page `number`. Read along ix_draft_recipients_campaign_state_name_order and
    counted from the kept counts (CampaignCount): page 1 and page 5,000 of a list of
    100,000 cost the same as on one of 100."""
    state = "pending" if show == "pending" else "skipped"
    mine = (DraftRecipient.campaign_id == campaign_id, DraftRecipient.state == state)
    place = DraftRecipient.name_order
    total = int(
        db.session.scalar(
            select(func.coalesce(func.sum(CampaignCount.messages), 0)).where(
                CampaignCount.campaign_id == campaign_id, CampaignCount.state == state
            )
        )
        or 0
    )
    pages = max(1, -(-total // per_page))

    def read(
        *where: ColumnElement[bool], backwards: bool = False, skip: int = 0
    ) -> tuple[Sequence[Row], bool]:
        order = place.desc() if backwards else place
        keys = (
            select(DraftRecipient.id)
            .where(*mine, *where)
            .order_by(order)
            .offset(skip)
            .limit(per_page + 1)
            .subquery()
        )
        rows = db.session.execute(
            select(
                DraftRecipient.id,
                DraftRecipient.phone,
                DraftRecipient.state,
                DraftRecipient.skip_reason,
                DraftRecipient.name_order,
                Client.id.label("client_id"),
                Client.last_name,
                Client.first_name,
                Client.tel1,
                Store.code.label("store_code"),
                Store.name.label("store_name"),
            )
            .join(keys, keys.c.id == DraftRecipient.id)
            .join(Client, Client.id == DraftRecipient.client_id)
            .join(Store, Store.id == Client.store_id)
            .order_by(order)
        ).all()
        more = len(rows) > per_page
        rows = rows[:per_page]
        return (rows[::-1] if backwards else rows), more

    def beyond(row: Row | None, backwards: bool) -> bool:
        """Is there a row of the list before (after) this one? One index probe."""
        if row is None:
            return False
        where = place < row.name_order if backwards else place > row.name_order
        return db.session.scalar(select(DraftRecipient.id).where(*mine, where).limit(1)) is not None

    if before is not None:
        rows, earlier = read(place < before, backwards=True)
        if len(rows) < per_page:  # back at the start: the first page, whole
            rows, later = read()
            return _recipient_page(rows, 1, per_page, total, earlier=False, later=later)
        later = beyond(rows[-1], backwards=False)
        number = min(max(2 if earlier else 1, number), pages)
        return _recipient_page(rows, number if earlier else 1, per_page, total, earlier, later)
    if since is not None:
        rows, later = read(place >= since)
        if not rows and since > 1:  # past the end of a list that shrank: its last page
            return page(campaign_id, show=show, number=pages, per_page=per_page, before=since)
    else:  # a page by its number (a link kept from before): counted along the index
        number = min(max(1, number), pages)
        rows, later = read(skip=(number - 1) * per_page)
    earlier = beyond(rows[0] if rows else None, backwards=True)
    number = min(max(2 if earlier else 1, number), pages) if earlier else 1
    return _recipient_page(rows, number, per_page, total, earlier, later)


def _recipient_page(
    rows: Sequence[Row], number: int, per_page: int, total: int, earlier: bool, later: bool
) -> RecipientPage:
    return RecipientPage(
        rows=list(rows),
        number=number,
        per_page=per_page,
        total=total,
        first_place=rows[0].name_order if rows else 0,
        last_place=rows[-1].name_order if rows else 0,
        earlier=earlier,
        later=later,
    )


def _message(campaign: Campaign, message_id: int) -> DraftRecipient:
    message = db.session.get(DraftRecipient, message_id)
    if message is None or message.campaign_id != campaign.id:
        raise CampaignError(_l("Ce destinataire n'est pas dans cet envoi."))
    return message


def _phone_taken(campaign_id: int, phone: str | None, message_id: int) -> int | None:
    return db.session.scalar(
        select(DraftRecipient.id).where(
            DraftRecipient.campaign_id == campaign_id,
            DraftRecipient.state == "pending",
            DraftRecipient.phone == phone,
            DraftRecipient.id != message_id,
        )
    )


def _refresh_count(campaign: Campaign) -> None:
    # As campaigns.draft counts: every row; the skipped ones (removed included) are
    # told apart by their state (listings.done_share).
    campaign.recipients_count = (
        db.session.scalar(
            select(func.count(DraftRecipient.id)).where(DraftRecipient.campaign_id == campaign.id)
        )
        or 0
    )


def remove(user: Person, campaign_id: int, message_id: int) -> DraftRecipient:
    campaign = _editing(user, campaign_id)
    message = _message(campaign, message_id)
    if message.state == "pending":
        message.state, message.skip_reason, message.variant = "skipped", "removed", ""
        _rebalance(campaign)
    db.session.commit()
    return message


def _rebalance(campaign: Campaign) -> None:
    """A row left the list: the split of an A/B campaign back to its share exactly, the
    rows moved given their new variant's text if texts were written."""
    moved = variants.rebalance(campaign)
    if moved and campaign.body:
        _render(
            db.session.scalars(select(DraftRecipient).where(DraftRecipient.id.in_(moved))).all(),
            campaign,
        )


def restore(user: Person, campaign_id: int, message_id: int) -> DraftRecipient:
    """Put a removed (or once excluded) row back, if it can receive the message now."""
    campaign = _editing(user, campaign_id)
    message = _message(campaign, message_id)
    if message.state != "skipped":
        return message
    if message.skip_reason == results.CONTROL:
        db.session.rollback()
        raise CampaignError(REASON_TEXT[results.CONTROL])
    client = db.session.get(Client, message.client_id)
    if not message.phone and client is not None:
        # The row had no mobile when the list was made: the card may have one now.
        message.phone = client.sms_number or ""
    phone = message.phone or None
    reason = skip_reason(MARKETING, client, phone, opted_out_numbers([phone]))
    if reason is None and _phone_taken(campaign.id, message.phone, message.id):
        reason = DUPLICATE
    if reason is None:
        over = pressure.over_pressure([message.client_id])
        if over:
            reason = pressure.pressure_reason(*over[message.client_id])
    if reason is not None:
        db.session.rollback()
        if reason.startswith(pressure.PRESSURE + ":"):
            raise CampaignError(pressure.pressure_text(reason, capital=True) + ".")
        raise CampaignError(REASON_TEXT.get(reason, reason))
    message.state, message.skip_reason = "pending", ""
    variants.place(campaign, [message])
    if campaign.body:
        _render([message], campaign)
    db.session.commit()
    return message


def _release_duplicates(campaign: Campaign, phone: str | None) -> None:
    """The number left the list's pending rows: the first client skipped as its
    duplicate gets the message instead (if it can still receive it)."""
    if not phone or _phone_taken(campaign.id, phone, 0):
        return
    candidates = db.session.scalars(
        select(DraftRecipient)
        .where(
            DraftRecipient.campaign_id == campaign.id,
            DraftRecipient.state == "skipped",
            DraftRecipient.skip_reason == DUPLICATE,
            DraftRecipient.phone == phone,
        )
        .order_by(DraftRecipient.client_id, DraftRecipient.id)
    ).all()
    opted = opted_out_numbers([phone])
    for candidate in candidates:
        client = db.session.get(Client, candidate.client_id)
        if skip_reason(MARKETING, client, phone, opted) is None:
            candidate.state, candidate.skip_reason = "pending", ""
            variants.place(campaign, [candidate])
            if campaign.body:
                _render([candidate], campaign)
            return


REASON_TEXT = skip_reasons.EXPLAIN


def correct_phone(
    user: Person, campaign_id: int, message_id: int, raw: str, *, update_card: bool = False
) -> DraftRecipient:
    """Fix a recipient's number in the list; the client card changes only if asked."""
    campaign = _editing(user, campaign_id)
    message = _message(campaign, message_id)
    number = phones.sms_number(raw, "")
    if number is None:
        reason = formats.said(phones.no_sms_reason(raw, "")) or _l("Numéro incorrect")
        raise CampaignError(
            _l(
                "%(reason)s : tapez un numéro de portable, par exemple 06 12 34 56 78.",
                reason=reason,
            )
        )
    client = db.session.get(Client, message.client_id)
    old_phone, was_pending = message.phone, message.state == "pending"
    message.phone = number
    if message.state == "pending" or message.skip_reason in eligibility.NUMBER_REASONS:
        reason = skip_reason(MARKETING, client, number, opted_out_numbers([number]))
        if reason is None and _phone_taken(campaign.id, number, message.id):
            reason = DUPLICATE
        message.state, message.skip_reason = ("skipped", reason) if reason else ("pending", "")
        if message.state == "pending" and not was_pending:
            variants.place(campaign, [message])
            if campaign.body:
                _render([message], campaign)
        elif message.state != "pending":
            message.variant = ""
    db.session.flush()
    if was_pending and old_phone != number:
        _release_duplicates(campaign, old_phone)
    _rebalance(campaign)
    if update_card and client is not None:
        client.tel1 = phones.display(number)
        for name, value in phone_fields(client.tel1, client.tel2).items():
            setattr(client, name, value)
        audit.record("client.phone", user=user, obj=client, source="campaign")
    db.session.commit()
    return message


TYPED_TEXT_MAX = 2000  # far above the longest SMS a campaign may send (10 parts)


def keep_typed(
    user: Person,
    campaign_id: int,
    body: str | None,
    sender_id: str | None,
    body_b: str | None = None,
) -> Campaign:
    """The draft keeps its texts (« Variante B » too, when given) and sender as they are
    typed, until it is sent or deleted: a refused « Envoyer », « Modifier les critères de
    sélection » or leaving the page loses nothing. Nothing is checked here (that is for
    « Envoyer »); the recipients' texts are frozen only when it is sent. The STOP mention
    is always on a marketing draft (add_stop, set when it was made)."""
    campaign = _editing(user, campaign_id)
    campaign.body = (body or "").replace("\x00", "")[:TYPED_TEXT_MAX]
    campaign.sender_id = (sender_id or "").replace("\x00", "").strip()[:11]
    if body_b is not None:
        campaign.body_b = body_b.replace("\x00", "")[:TYPED_TEXT_MAX]
    db.session.commit()
    return campaign


def set_split(
    user: Person,
    campaign_id: int,
    raw: object,
    *,
    body: str | None = None,
    body_b: str | None = None,
    sender_id: str | None = None,
) -> Campaign | None:
    """« Tester deux textes (A/B) »: `raw` the share of « Variante B » (%), or None to go
    back to one text (« Variante B » is forgotten). The split is drawn again among the
    rows to be texted; the texts typed so far are kept with it."""
    split = 0
    if raw is not None:
        value, error = variants.clean_split(raw)
        if value is None:  # then `error` says why
            raise CampaignError(error)
        split = value
    campaign = _editing(user, campaign_id)
    if body is not None:
        campaign.body = body.replace("\x00", "")[:TYPED_TEXT_MAX]
    if sender_id is not None:
        campaign.sender_id = sender_id.replace("\x00", "").strip()[:11]
    if body_b is not None:
        campaign.body_b = body_b.replace("\x00", "")[:TYPED_TEXT_MAX]
    if not split:
        campaign.body_b = ""
    campaign.split_b = split
    chosen = variants.assign(campaign)
    audit.record(
        "campaign.split",
        user=user,
        store_id=campaign.store_id,
        obj=campaign,
        split_b=split,
        variant_b=chosen,
    )
    db.session.commit()
    return db.session.get(Campaign, campaign_id)


def split_cost(campaign: Campaign, body: str, body_b: str) -> variants.SplitCost:
    """The confirmation of an A/B campaign: each variant's exact cost on its own
    recipients' final texts, and the total (variants.SplitCost)."""
    costs: list[variants.VariantCost] = []
    for variant, text in zip(variants.VARIANTS, (body, body_b), strict=True):
        preview = costing.preview(
            text,
            add_stop=campaign.add_stop,
            store_id=campaign.store_id,
            campaign_id=campaign.id,
            variant=variant,
            gsm_names=campaign.gsm_names,
        )
        estimate = preview.cost.estimate
        costs.append(variants.VariantCost(variant, estimate.recipients, estimate.credits))
    return variants.SplitCost(variants=tuple(costs), available=credits.balance())


def validate_sender(value: str | None) -> str | None:
    errors = sender.validate_sender_id(value)
    return formats.said(errors[0]) if errors else None


def _check_text_and_sender(
    body: str | None, sender_id: str | None, body_b: str | None = None
) -> None:
    """What a draft must have before its texts are written: a text (two for an A/B
    campaign: `body_b` not None) and a valid sender."""
    if not (body or "").strip():
        raise CampaignError(_l("Le message est vide : écrivez le texte du SMS."))
    if body_b is not None and not body_b.strip():
        raise CampaignError(
            _l("La variante B est vide : écrivez son texte, ou revenez à un seul texte.")
        )
    error = validate_sender(sender_id)
    if error:
        raise CampaignError(_l("Intitulé de l'expéditeur : %(error)s", error=error))


def compose(
    user: Person,
    campaign_id: int,
    body: str,
    sender_id: str,
    *,
    body_b: str | None = None,
    commit: bool = True,
) -> Campaign:
    """Give the draft its text (its two texts, A/B): every recipient's final text and
    parts, frozen."""
    campaign = _editing(user, campaign_id)
    _check_text_and_sender(body, sender_id, _text_b(campaign, body_b))
    campaign.body, campaign.sender_id = body, sender_id
    if variants.on(campaign):
        campaign.body_b = body_b if body_b is not None else campaign.body_b
    overflow = _freeze_texts(campaign)
    if overflow.over_limit:
        # The rule and the words of every sending (campaigns.draft, the counter).
        raise CampaignError(
            campaigns.too_long(
                overflow,
                add_stop=campaign.add_stop,
                short_code=settings.get("stop_short_code", campaign.store_id),
            )
        )
    audit.record("campaign.compose", user=user, store_id=campaign.store_id, obj=campaign)
    if commit:
        db.session.commit()
    return campaign


def _text_b(campaign: Campaign, body_b: str | None) -> str | None:
    """« Variante B » to check before sending: what was posted, else what the draft
    kept; None for a campaign with one text."""
    if not variants.on(campaign):
        return None
    return campaign.body_b if body_b is None else body_b


# values of costing.PLACEHOLDER_COLUMNS -> (final text, parts): _text_maker.
TextMaker: TypeAlias = Callable[[Sequence[Any]], tuple[str, int]]


def _makers(campaign: Campaign, overflow: Overflow | None = None) -> dict[str, TextMaker]:
    """{variant: _text_maker}: each row's text is that of its variant."""
    make_a = _text_maker(campaign, overflow)
    makers = {"": make_a, "A": make_a}
    if variants.on(campaign):
        makers["B"] = _text_maker(campaign, overflow, body=campaign.body_b)
    else:
        makers["B"] = make_a
    return makers


# Texts a _text_maker keeps to render each distinct card once: enough for the texts
# that repeat (a body without names, a store's name), flat memory for a million names.
RENDERED_KEPT = 20_000


def _text_maker(
    campaign: Campaign, overflow: Overflow | None = None, *, body: str | None = None
) -> TextMaker:
    """values of costing.PLACEHOLDER_COLUMNS → (final text, parts) of `body` (the
    campaign's own text by default). A big campaign calls
    it 100,000 times: each distinct context is rendered once (most bodies use few
    placeholders), each distinct text measured once, from plain tuples and locals.
    `overflow` (a cost.Overflow) counts the texts over the store's limit."""
    fields = [column.key for column in costing.PLACEHOLDER_COLUMNS]
    body = campaign.body if body is None else body
    add_stop, gsm_names = campaign.add_stop, campaign.gsm_names
    short_code = settings.get("stop_short_code", campaign.store_id)
    used = [fields.index(field) for field in costing._fields_used(body)]
    rendered: dict[tuple[Any, ...], tuple[str, int, tuple[str, int, int]]] = {}
    measured: dict[str, tuple[str, int, int]] = {}

    def make(values: Sequence[Any]) -> tuple[str, int]:
        key = tuple([values[i] for i in used])
        found = rendered.get(key)
        if found is None:
            if len(rendered) >= RENDERED_KEPT:  # a chain's clients: as many names as cards
                rendered.clear()
                measured.clear()
            context = dict(zip(fields, values, strict=True))
            text = final_text(
                body, context, add_stop=add_stop, short_code=short_code, gsm_names=gsm_names
            )
            measure = measured.get(text)
            if measure is None:
                measure = measured[text] = encoding.measure(text)
            found = rendered[key] = (text, measure[2], measure)
        if overflow is not None:
            overflow.add(found[2])
        return found[:2]

    return make


PREPARE_CHUNK = 20_000  # rows given their text per transaction while preparing
# PostgreSQL: the list is given its texts by this many connections side by side, a part
# of PREPARE_PART rows per transaction: one renders its texts while the other's are
# written (_freeze_range_pg), each keeping about one core busy.
PREPARE_CONNECTIONS = 2
PREPARE_PART = 5_000


def _freeze_texts(
    campaign: Campaign,
    *,
    chunk: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Overflow:
    """Every pending row of the list gets its final text and parts: all at once, or
    `chunk` rows per transaction (in id order), calling `progress(rows done)` after each
    commit. Returns the cost.Overflow of the texts (those over the store's limit)."""
    overflow = Overflow(costing.max_parts(campaign.store_id))
    make = _makers(campaign, overflow)
    done, after = 0, 0
    while True:
        upto = None
        if chunk:
            upto = db.session.scalar(
                select(DraftRecipient.id)
                .where(
                    DraftRecipient.campaign_id == campaign.id,
                    DraftRecipient.state == "pending",
                    DraftRecipient.id > after,
                )
                .order_by(DraftRecipient.id)
                .offset(chunk - 1)
                .limit(1)
            )
        done += _freeze_range(campaign.id, make, after, upto)
        if progress is not None:
            progress(done)
        if upto is None:
            return overflow
        after = upto


def _freeze_side_by_side(campaign: Campaign) -> Overflow:
    """PostgreSQL: every pending row of the list gets its final text and parts, in parts
    of PREPARE_PART rows (in id order) taken in turn by PREPARE_CONNECTIONS connections,
    each part in its own transaction, which adds its rows to the campaign's progress
    (Campaign.prepared). A part that fails rolls back alone and stops the others: the
    caller refuses the campaign; parts already written keep texts that a later
    preparation writes again. Returns the cost.Overflow of all the texts."""
    pending = (DraftRecipient.campaign_id == campaign.id, DraftRecipient.state == "pending")
    numbered = (
        select(DraftRecipient.id, func.row_number().over(order_by=DraftRecipient.id).label("n"))
        .where(*pending)
        .subquery()
    )
    bounds = list(
        db.session.scalars(
            select(numbered.c.id).where(numbered.c.n % PREPARE_PART == 0).order_by(numbered.c.id)
        )
    )
    parts: queue.SimpleQueue[tuple[int, int | None]] = queue.SimpleQueue()
    for after_upto in zip([0, *bounds], [*bounds, None], strict=True):
        parts.put(after_upto)
    max_parts = costing.max_parts(campaign.store_id)
    side_by_side = min(PREPARE_CONNECTIONS, len(bounds) + 1)
    overflows = [Overflow(max_parts) for _ in range(side_by_side)]
    makers = [_makers(campaign, overflow) for overflow in overflows]
    campaign_id = campaign.id
    db.session.commit()  # nothing of this session is held while the parts are written
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug proxy
    failed: list[Exception] = []

    def write_parts(make: Mapping[str, TextMaker]) -> None:
        with app.app_context(), db.engine.connect() as connection:
            while not failed:
                try:
                    after, upto = parts.get_nowait()
                except queue.Empty:
                    return
                rows = [*pending, DraftRecipient.id > after]
                if upto is not None:
                    rows.append(DraftRecipient.id <= upto)
                try:
                    with connection.begin():
                        with groups_stand_aside(connection):
                            done = _freeze_range_pg(connection, campaign_id, make, rows)
                        connection.execute(
                            update(Campaign)
                            .where(Campaign.id == campaign_id)
                            .values(prepared=Campaign.prepared + done, prepared_at=utcnow())
                        )
                except Exception as error:  # the caller says it (and logs it)
                    failed.append(error)
                    return

    threads = [threading.Thread(target=write_parts, args=(make,)) for make in makers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise failed[0]
    overflow = Overflow(max_parts)
    for counted in overflows:
        overflow.merge(counted)
    return overflow


def _freeze_range(
    campaign_id: int, makers: Mapping[str, TextMaker], after: int, upto: int | None
) -> int:
    """Rows of the list with after < id <= upto (no upper bound: None), each given the
    text of its variant (`makers`: variant → _text_maker).

    PostgreSQL: the pending rows are locked and read with their clients' fields, then
    updated in place (_freeze_range_pg). SQLite (one writer at a time) updates them
    through a temporary table."""
    pending = [
        DraftRecipient.campaign_id == campaign_id,
        DraftRecipient.state == "pending",
        DraftRecipient.id > after,
    ]
    if upto is not None:
        pending.append(DraftRecipient.id <= upto)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        with groups_stand_aside(connection):
            return _freeze_range_pg(connection, campaign_id, makers, pending)
    rows = db.session.execute(
        select(DraftRecipient.id, DraftRecipient.variant, *costing.PLACEHOLDER_COLUMNS)
        .join(Client, Client.id == DraftRecipient.client_id)
        .join(Store, Store.id == Client.store_id)
        .where(*pending)
    ).all()
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None  # the connection of the transaction under way
    cursor = dbapi.cursor()
    cursor.execute("DROP TABLE IF EXISTS temp.frozen_texts")
    cursor.execute(
        "CREATE TEMPORARY TABLE frozen_texts (id INTEGER PRIMARY KEY, text TEXT, parts INTEGER)"
    )
    cursor.executemany(
        "INSERT INTO frozen_texts (id, text, parts) VALUES (?, ?, ?)",
        [(row[0], *makers[row[1]](row[2:])) for row in rows],
    )
    cursor.execute(
        "UPDATE draft_recipients SET text = frozen_texts.text, parts = frozen_texts.parts "
        "FROM frozen_texts WHERE draft_recipients.id = frozen_texts.id"
    )
    cursor.execute("DROP TABLE temp.frozen_texts")
    return len(rows)


def _freeze_range_pg(
    connection: Connection,
    campaign_id: int,
    makers: Mapping[str, TextMaker],
    pending: Sequence[ColumnElement[bool]],
) -> int:
    # The rows are locked as their clients' fields are read, then given their texts by
    # one UPDATE. The list's pages keep room for it (fillfactor, migration 0032): text
    # and parts are in no index, so each row's new version stays on its page and no
    # index changes (PostgreSQL's HOT update). Deleted and written again by
    # COPY, each row went through the list's five indexes twice: 3.6 s of the database
    # for 100,000 rows, against about 1 s.
    rows = connection.execute(
        select(DraftRecipient.id, DraftRecipient.variant, *costing.PLACEHOLDER_COLUMNS)
        .select_from(DraftRecipient)
        .outerjoin(Client, Client.id == DraftRecipient.client_id)
        .outerjoin(Store, Store.id == Client.store_id)
        .where(*pending)
        .with_for_update(of=DraftRecipient)
    ).all()
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None  # the connection of the transaction under way
    cursor = dbapi.cursor()
    # The texts go by COPY (a fifth of the time of an array parameter, which psycopg
    # writes out in Python), into a table of this connection emptied at each commit.
    cursor.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS prepared_texts "
        "(id integer, text text, parts smallint) ON COMMIT DELETE ROWS"
    )
    with cursor.copy("COPY prepared_texts (id, text, parts) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((row[0], *makers[row[1]](row[2:])))
    cursor.execute("ANALYZE prepared_texts")  # its size: each row found by the list's key
    cursor.execute(
        "UPDATE draft_recipients AS d SET text = p.text, parts = p.parts "
        "FROM prepared_texts AS p WHERE d.id = p.id"
    )
    return len(rows)


def _contexts(client_ids: Sequence[int]) -> dict[int, costing.Context]:
    contexts: dict[int, costing.Context] = {}
    for start in range(0, len(client_ids), 10_000):
        chunk = client_ids[start : start + 10_000]
        for row in db.session.execute(
            select(Client.id, *costing.PLACEHOLDER_COLUMNS)
            .join(Store, Store.id == Client.store_id)
            .where(Client.id.in_(chunk))
        ):
            contexts[row.id] = costing.placeholder_context(row)
    return contexts


def _render(messages: Sequence[DraftRecipient], campaign: Campaign) -> None:
    """Final text and parts of a few rows (a restored or corrected recipient)."""
    short_code = settings.get("stop_short_code", campaign.store_id)
    contexts = _contexts([m.client_id for m in messages])
    for message in messages:
        body = variants.body_of(campaign, message.variant)
        text = final_text(
            body,
            contexts.get(message.client_id, {}),
            add_stop=campaign.add_stop,
            short_code=short_code,
            gsm_names=campaign.gsm_names,
        )
        message.text, message.parts = text, encoding.measure(text)[2]


# --- sending, with the acting user: the views only parse and call these -------------


def send(
    user: Person,
    campaign_id: int,
    body: str,
    sender_id: str,
    *,
    accept_next: bool = False,
    now: datetime | None = None,
    body_b: str | None = None,
) -> Campaign:
    """« Envoyer »: what can be told at once is checked here (the text, the sender, the
    sending hours, credits for one SMS per recipient at least); then the campaign is
    « En préparation » and a job gives every recipient their final text, reserves the
    exact cost and queues it (prepare). Raises OutsideSendingHours, CampaignError or
    credits.NotEnoughCredits, after rolling back."""
    return _start_preparing(
        user,
        campaign_id,
        body,
        sender_id,
        when=None,
        accept_next=accept_next,
        now=now,
        body_b=body_b,
    )


def defer(
    user: Person,
    campaign_id: int,
    body: str,
    sender_id: str,
    when_local: datetime,
    *,
    now: datetime | None = None,
    body_b: str | None = None,
) -> Campaign:
    """« Envoi différé » of a draft (prepared by a job, as « Envoyer »), or a new time for
    a scheduled campaign. `when_local` is the naive Europe/Paris moment typed."""
    try:
        when = sending_hours.to_utc(when_local)
        campaign = get(user, campaign_id, "draft", "scheduled")
        if campaign.status == "scheduled":
            return campaigns.reschedule(campaign.id, when, now=now, user=user)
    except Exception:
        db.session.rollback()
        raise
    return _start_preparing(user, campaign.id, body, sender_id, when=when, now=now, body_b=body_b)


def _start_preparing(
    user: Person,
    campaign_id: int,
    body: str,
    sender_id: str,
    *,
    when: datetime | None,
    accept_next: bool = False,
    now: datetime | None = None,
    body_b: str | None = None,
) -> Campaign:

    try:
        campaign = _editing(user, campaign_id)
        body_b = _text_b(campaign, body_b)
        _check_text_and_sender(body, sender_id, body_b)
        now = now or utcnow()
        not_before = when
        if when is not None:
            sending_hours.check_when(campaign, when, now)
        else:
            window = sending_hours.sending_window(campaign.store_id)
            if not hours.is_allowed(now, window):
                next_time = hours.next_allowed(now, window)
                if not accept_next:
                    raise sending_hours.OutsideSendingHours(next_time)
                not_before = sending_hours.to_utc(next_time)
        available = credits.balance()
        if available <= 0:  # the exact cost comes with the preparation; none left is sure
            raise credits.NotEnoughCredits(max(1, campaign.recipients_count), available)
        campaign.body, campaign.sender_id = body, sender_id
        if body_b is not None:
            campaign.body_b = body_b
        if not claim_status(
            campaign.id,
            ("draft",),
            "preparing",
            scheduled_at=when,
            not_before=not_before,
            status_note="",
            prepared=0,
            to_prepare=0,
            prepared_at=utcnow(),
        ):
            raise CampaignError(ALREADY_GONE)
        audit.record(
            "campaign.send",
            user=db.session.get(User, user.id),
            store_id=campaign.store_id,
            obj=campaign,
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if not _enqueue_preparation(campaign.id, user.id):
        # Redis is down: the sweep queues it as soon as it is back (no progress date).
        claim_status(campaign.id, ("preparing",), "preparing", prepared_at=None)
        db.session.commit()
        campaign.queue_down = True
    return campaign


def _enqueue_preparation(campaign_id: int, user_id: int | None) -> bool:
    """Queue the preparation; with Redis down the campaign stays « En préparation » and
    the sweep queues it again (preparations_to_resume)."""
    return background.prepare_campaign(campaign_id, user_id)


PREPARATION_FAILED = N_(
    "La préparation de l'envoi s'est arrêtée sur une erreur inattendue : rien n'est parti "
    "et aucun crédit n'est pris. Cliquez de nouveau sur « Envoyer »."
)


def prepare(campaign_id: int, user_id: int | None = None) -> Campaign | None:
    """The job behind « Envoyer » and « Envoi différé »: every recipient's final text and
    parts (chunk by chunk, the progress committed), then in one transaction the exact
    cost reserved and the campaign queued or scheduled. A refusal (not enough credits,
    outside sending hours by now) puts it back to draft with the reason, which the
    draft page shows; nothing left and no credit taken."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "preparing":
        return None
    try:
        to_prepare = summary(campaign_id).recipients

        def progress(done: int) -> None:
            db.session.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id)
                .values(prepared=done, to_prepare=to_prepare, prepared_at=utcnow())
            )
            db.session.commit()

        # The split exactly at its share on the list as it is now (each row keeps its
        # variant: the same list gives the same split as the composer costed).
        variants.rebalance(campaign)
        progress(0)
        if db.session.connection().dialect.name == "postgresql":
            overflow = _freeze_side_by_side(campaign)
        else:  # one writer at a time
            overflow = _freeze_texts(campaign, chunk=PREPARE_CHUNK, progress=progress)
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign is not None  # it was preparing: nothing deletes it meanwhile
        if overflow.over_limit:  # the composer said so already; the rule is kept here too
            raise CampaignError(
                campaigns.too_long(
                    overflow,
                    add_stop=campaign.add_stop,
                    short_code=settings.get("stop_short_code", campaign.store_id),
                )
            )
        if campaign.scheduled_at is not None:
            return campaigns.schedule(
                campaign.id, campaign.scheduled_at, user_id=user_id, from_status="preparing"
            )
        # The hours were checked at the click: a window that closed while it was prepared
        # holds it till the next one, with the note the page shows, as a late worker would.
        return campaigns.queue_now(
            campaign.id, user_id=user_id, from_status="preparing", accept_next_window=True
        )
    except (CampaignError, credits.NotEnoughCredits) as error:
        # The draft page says it in its reader's language (this job has no reader).
        reason = formats.keep(error.args[0] if error.args else str(error))
    except Exception:
        logging.getLogger(__name__).exception("campaign %s: preparation failed", campaign_id)
        reason = formats.keep(PREPARATION_FAILED)
    db.session.rollback()
    claim_status(
        campaign_id,
        ("preparing",),
        "draft",
        scheduled_at=None,
        not_before=None,
        status_note=reason,
        prepared=0,
    )
    db.session.commit()
    return db.session.get(Campaign, campaign_id)


def resume_preparations(now: datetime | None = None) -> list[int]:
    """Campaigns left « En préparation » (Redis lost the job, its worker died): queued
    again by the sweep. A preparation commits its progress every few seconds."""
    now = now or utcnow()
    stale = now - timedelta(seconds=current_app.config["CLAIM_STALE_SECONDS"])
    left = db.session.execute(
        select(Campaign.id, Campaign.created_by_id).where(
            Campaign.status == "preparing",
            Campaign.prepared_at.is_(None) | (Campaign.prepared_at < stale),
        )
    ).all()
    resumed: list[int] = []
    for campaign_id, user_id in left:
        if _enqueue_preparation(campaign_id, user_id):
            db.session.execute(
                update(Campaign).where(Campaign.id == campaign_id).values(prepared_at=now)
            )
            db.session.commit()
            resumed.append(campaign_id)
    return resumed


def unschedule(user: Person, campaign_id: int) -> Campaign:
    campaign = get(user, campaign_id, "scheduled")
    return campaigns.unschedule(campaign.id, user=user)


def cancel(user: Person, campaign_id: int) -> Campaign:
    campaign = get(user, campaign_id, "scheduled", "queued", "sending")
    return campaigns.cancel(campaign.id, user=user)


TEST_SMS_PER_HOUR = 5


def send_test(
    user: Person,
    campaign_id: int,
    raw_phone: str,
    body: str,
    sender_id: str | None,
    *,
    now: datetime | None = None,
    body_b: str | None = None,
) -> str:
    """« Envoyer un SMS de test »: to the user's own mobile, worded as the first
    recipient will read it, but filed under no client (it is not that client's SMS);
    an A/B campaign's two texts, one SMS each. A few an hour per user: a test, not a way
    round the campaign's rules. Returns the number (E.164)."""
    campaign = get(user, campaign_id, "draft")
    number = phones.sms_number(raw_phone, "")
    if number is None:
        raise CampaignError(_l("Tapez votre numéro de portable, par exemple 06 12 34 56 78."))
    since = (now or utcnow()) - timedelta(hours=1)
    sent = db.session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "campaign.test",
            AuditEntry.user_id == user.id,
            AuditEntry.at >= since,
        )
    )
    if (sent or 0) >= TEST_SMS_PER_HOUR:  # a count: never None
        raise CampaignError(
            _l(
                "Vous avez déjà envoyé %(num)s SMS de test cette heure-ci : réessayez plus tard.",
                num=TEST_SMS_PER_HOUR,
            )
        )
    error = validate_sender(sender_id) if sender_id else None
    if error:
        raise CampaignError(_l("Intitulé de l'expéditeur : %(error)s", error=error))
    first = db.session.scalar(pending_client_ids(campaign.id).limit(1))
    context = _contexts([first]).get(first, {}) if first else {}
    texts = [(body, f"Test de la campagne n° {campaign.id}")]
    body_b = _text_b(campaign, body_b)
    if body_b is not None and body_b.strip():
        texts = [
            (body, f"Test de la campagne n° {campaign.id} (variante A)"),
            (body_b, f"Test de la campagne n° {campaign.id} (variante B)"),
        ]
    try:
        for text, name in texts:
            test = campaigns.draft(
                "single",
                body=text,
                recipients=[campaigns.Recipient(phone=number, context=context)],
                store_id=campaign.store_id,
                user_id=user.id,
                add_stop=campaign.add_stop,
                sender_id=sender_id or None,
                name=name,
                gsm_names=campaign.gsm_names,
            )
            audit.record("campaign.test", user=user, store_id=campaign.store_id, obj=test)
            campaigns.queue_now(test.id, user_id=user.id)
    except Exception:
        db.session.rollback()
        raise
    return number


def set_gsm_names(user: Person, campaign_id: int, on: bool) -> Campaign:
    """« Écrire les noms sans accents dans ce SMS »: the draft keeps the choice, and its
    messages are rendered with it (the client cards stay as they are)."""
    campaign = _editing(user, campaign_id)
    campaign.gsm_names = bool(on)
    audit.record(
        "campaign.gsm_names", user=user, store_id=campaign.store_id, obj=campaign, on=bool(on)
    )
    db.session.commit()
    return campaign
