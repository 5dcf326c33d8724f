"""A/B texts: a marketing campaign may have two texts, « Variante A » (its body) and
« Variante B » (body_b), given to a share of its recipients (split_b %, 0: one text).

The split is made on the draft's « Liste des destinataires », among the rows to be texted
(the « groupe témoin » and every exclusion kept apart, with no variant): exactly
round(split_b % of them) get B, drawn by a generator seeded with the campaign, so that the
same list and share always give the same split. A row that comes back to the list later
(restored, its phone corrected) goes to the variant short of its share; a row that leaves
it may leave one variant a row over its share, and one row moves back (the last of that
variant in the list). Each row holds one variant: no client gets both texts.

Each recipient's text is that of their variant, rendered, measured and charged as any
campaign's (recipients._freeze_texts); the composer costs each variant on its own rows.
The counts per variant come from campaign_counts (kept by the database's triggers).
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import Campaign, CampaignCount, DraftRecipient

VARIANTS = ("A", "B")
SPLIT_DEFAULT = 50
SPLIT_MIN, SPLIT_MAX = 10, 90


def on(campaign: Campaign) -> bool:
    """Whether the campaign has two texts."""
    return bool(campaign.split_b)


def clean_split(raw: object) -> tuple[int, None] | tuple[None, LazyString]:
    """« Part de la variante B (%) » as typed: (value, None) or (None, French message)."""
    text = str(raw if raw is not None else "").strip().rstrip("%").strip()
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not SPLIT_MIN <= value <= SPLIT_MAX:
        return None, _l(
            "Part de la variante B : un nombre entier de %(low)d à %(high)d (%%).",
            low=SPLIT_MIN,
            high=SPLIT_MAX,
        )
    return value, None


def target(recipients: int, split_b: int) -> int:
    """How many of `recipients` rows get « Variante B »."""
    return round(recipients * split_b / 100)


def draw(campaign_id: int, ids: Sequence[int], split_b: int) -> list[int]:
    """The ids (in a fixed order) given « Variante B »: exactly target(len(ids)), the
    same ones for the same list and share."""
    return sorted(random.Random(f"variante-b:{campaign_id}").sample(ids, target(len(ids), split_b)))


def pending_counts(campaign_id: int) -> dict[str, int]:
    """{variant: rows of the list to be texted}, from the counts the database keeps."""
    rows = db.session.execute(
        select(CampaignCount.variant, func.sum(CampaignCount.messages))
        .where(CampaignCount.campaign_id == campaign_id, CampaignCount.state == "pending")
        .group_by(CampaignCount.variant)
    )
    counts = {"": 0, "A": 0, "B": 0}
    counts.update({variant: int(number or 0) for variant, number in rows})
    return counts


def assign(campaign: Campaign) -> int:
    """Draw the split of the whole list again (or clear it when the campaign has one
    text): the rows to be texted get A or B, the others no variant."""
    mine = DraftRecipient.campaign_id == campaign.id
    cleared = [mine, DraftRecipient.variant != ""]
    if on(campaign):
        cleared.append(DraftRecipient.state != "pending")
    db.session.execute(
        update(DraftRecipient)
        .where(*cleared)
        .values(variant="")
        .execution_options(synchronize_session=False)
    )
    if not on(campaign):
        return 0
    ids = list(
        db.session.scalars(
            select(DraftRecipient.id)
            .where(mine, DraftRecipient.state == "pending")
            .order_by(DraftRecipient.client_id, DraftRecipient.id)
        )
    )
    db.session.execute(
        update(DraftRecipient)
        .where(mine, DraftRecipient.state == "pending", DraftRecipient.variant != "A")
        .values(variant="A")
        .execution_options(synchronize_session=False)
    )
    chosen = draw(campaign.id, ids, campaign.split_b)
    for start in range(0, len(chosen), 10_000):
        db.session.execute(
            update(DraftRecipient)
            .where(DraftRecipient.id.in_(chosen[start : start + 10_000]))
            .values(variant="B")
            .execution_options(synchronize_session=False)
        )
    db.session.expire_all()
    return len(chosen)


def place(campaign: Campaign, rows: Sequence[DraftRecipient]) -> None:
    """Rows just put back on the list (DraftRecipient objects, pending) get the variant
    short of its share; with one text, none."""
    if not rows:
        return
    if not on(campaign):
        for row in rows:
            row.variant = ""
        return
    for row in rows:
        row.variant = ""
    db.session.flush()
    counts = pending_counts(campaign.id)
    for row in rows:
        total = counts["A"] + counts["B"] + 1
        row.variant = "B" if counts["B"] < target(total, campaign.split_b) else "A"
        counts[row.variant] += 1
        counts[""] -= 1
    db.session.flush()


def rebalance(campaign: Campaign) -> list[int]:
    """After a row left the list: the variant over its share gives its last rows back,
    so that B holds exactly its share. Returns the ids of the rows moved (their text,
    if already written, is to be written again)."""
    if not on(campaign):
        return []
    db.session.flush()
    counts = pending_counts(campaign.id)
    if counts[""]:  # rows back on the list by a way that did not place them
        loose = db.session.scalars(
            select(DraftRecipient).where(
                DraftRecipient.campaign_id == campaign.id,
                DraftRecipient.state == "pending",
                DraftRecipient.variant == "",
            )
        ).all()
        place(campaign, loose)
        counts = pending_counts(campaign.id)
    want = target(counts["A"] + counts["B"], campaign.split_b)
    surplus, source, dest = counts["B"] - want, "B", "A"
    if surplus < 0:
        surplus, source, dest = -surplus, "A", "B"
    if not surplus:
        return []
    moved = list(
        db.session.scalars(
            select(DraftRecipient.id)
            .where(
                DraftRecipient.campaign_id == campaign.id,
                DraftRecipient.state == "pending",
                DraftRecipient.variant == source,
            )
            .order_by(DraftRecipient.id.desc())
            .limit(surplus)
        )
    )
    if moved:
        db.session.execute(
            update(DraftRecipient)
            .where(DraftRecipient.id.in_(moved))
            .values(variant=dest)
            .execution_options(synchronize_session=False)
        )
        db.session.expire_all()
    return moved


def body_of(campaign: Campaign, variant: str) -> str:
    """The text a recipient of this variant gets."""
    return campaign.body_b if variant == "B" else campaign.body


@dataclass(frozen=True)
class VariantCost:
    variant: str
    recipients: int
    credits: int


def reserved(campaign_id: int) -> tuple[VariantCost, ...]:
    """(VariantCost A, VariantCost B): the credits « Envoyer » reserved for each variant
    and not yet spent, i.e. the SMS parts of its rows still to send (campaigns.cost's
    total, split), from the counts the database keeps."""
    rows = db.session.execute(
        select(
            CampaignCount.variant, func.sum(CampaignCount.messages), func.sum(CampaignCount.parts)
        )
        .where(
            CampaignCount.campaign_id == campaign_id,
            CampaignCount.state == "pending",
            CampaignCount.variant.in_(VARIANTS),
        )
        .group_by(CampaignCount.variant)
    )
    found = {variant: (int(rows or 0), int(parts or 0)) for variant, rows, parts in rows}
    return tuple(VariantCost(v, *found.get(v, (0, 0))) for v in VARIANTS)


@dataclass(frozen=True)
class SplitCost:
    """What « Envoyer » will reserve for an A/B campaign: each variant's exact cost (on
    its own recipients' final texts) and the total."""

    variants: tuple[VariantCost, ...]  # for A and B
    available: int

    @property
    def recipients(self) -> int:
        return sum(v.recipients for v in self.variants)

    @property
    def credits(self) -> int:
        return sum(v.credits for v in self.variants)

    @property
    def left(self) -> int:
        return self.available - self.credits

    @property
    def missing(self) -> int:
        return max(0, -self.left)
