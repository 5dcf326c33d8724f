"""« Résultats »: did a marketing campaign bring clients into the stores?

A marketing campaign holds out a random share of its eligible recipients, the « groupe
témoin », when its list is frozen (after every exclusion, so that both groups are alike):
they get no SMS and cost nothing. After the sending, the stores' own sales over the
attribution window are compared between the clients texted and the control group:
conversion, revenue, and the uplift with its 95 % confidence interval.

The comparison is by intention to treat: every client the campaign meant to text counts
as texted, even if the operator failed to deliver, since the control group was drawn
from the same list before anyone knew who would be reached.
"""

import csv
import io
import json
import math
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from statistics import NormalDist
from typing import Any, Self, TypedDict, TypeGuard

from sqlalchemy import (
    Float,
    Row,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
    type_coerce,
    update,
)

from .. import access
from ..access import Person
from ..extensions import db
from ..models import (
    Campaign,
    CampaignCount,
    Client,
    DraftRecipient,
    Message,
    Purchase,
    Store,
    utcnow,
)
from ..sms import hours
from . import background, result_figures, settings, settings_rules
from .campaigns import progress
from .report_export import _safe
from .reports import SENT_STATES, variant_figures

CONTROL = "control"
Z95 = NormalDist().inv_cdf(0.975)  # 1.959963984540054

# Below these, the interval is too wide to say anything: « échantillon trop petit ».
MIN_GROUP_CLIENTS = 100
MIN_BUYERS = 10
# Lists shorter than this get no control group unless one is asked for on the campaign.
MIN_LIST = 200


# --- the draw ------------------------------------------------------------------------------


def clean_share(raw: object) -> tuple[Any, settings_rules.Text]:
    """A share typed on the campaign: the value, or a French message saying what to fix."""
    return settings.clean("control_share", raw)


def hold_out(campaign: Campaign, share: int | None = None) -> int:
    """Draw the « groupe témoin » among the draft's pending rows: `share` % of them (the
    chain's setting when None), chosen by a generator seeded with the campaign, so the
    same list always gives the same group. An earlier draw is put back first."""
    default = share is None
    if share is None:
        share = int(settings.get("control_share", campaign.store_id))
    mine = DraftRecipient.campaign_id == campaign.id
    db.session.execute(
        update(DraftRecipient)
        .where(mine, DraftRecipient.state == "skipped", DraftRecipient.skip_reason == CONTROL)
        .values(state="pending", skip_reason="")
        .execution_options(synchronize_session=False)
    )
    ids = list(
        db.session.scalars(
            select(DraftRecipient.id)
            .where(mine, DraftRecipient.state == "pending")
            .order_by(DraftRecipient.client_id, DraftRecipient.id)
        )
    )
    if default and len(ids) < MIN_LIST:
        # A handful of clients could never show an effect: all of them get the SMS,
        # unless someone asks for a control group on this campaign.
        share = 0
    campaign.control_share = share
    held = draw(campaign.id, ids, share)
    for start in range(0, len(held), 10_000):
        db.session.execute(
            update(DraftRecipient)
            .where(DraftRecipient.id.in_(held[start : start + 10_000]))
            .values(state="skipped", skip_reason=CONTROL)
            .execution_options(synchronize_session=False)
        )
    return len(held)


def draw(campaign_id: int, ids: Sequence[int], share: int) -> list[int]:
    """The ids (in a fixed order) held out: round(share % of them), reproducible."""
    size = round(len(ids) * share / 100)
    return sorted(random.Random(f"groupe-temoin:{campaign_id}").sample(ids, size))


def split_of(recipients: int, share: int) -> tuple[int, int]:
    """(texted, held out) for a number of eligible recipients: the live summary's
    « N destinataires · M en groupe témoin » before the list is frozen."""
    held = round(recipients * share / 100) if recipients >= MIN_LIST else 0
    return recipients - held, held


# --- the statistics ------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


def proportion_difference(buyers1: int, n1: int, buyers0: int, n0: int) -> Interval:
    """p1 − p0 with its 95 % Wald interval (statsmodels' confint_proportions_2indep,
    method="wald")."""
    p1, p0 = buyers1 / n1, buyers0 / n0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    diff = p1 - p0
    return Interval(diff, diff - Z95 * se, diff + Z95 * se)


def mean_difference(
    sum1: float, squares1: float, n1: int, sum0: float, squares0: float, n0: int
) -> Interval:
    """Difference of two means (revenue per client) with its 95 % interval, unequal
    variances (Welch, normal approximation: the groups are hundreds of clients)."""
    mean1, mean0 = sum1 / n1, sum0 / n0
    var1 = max(0.0, (squares1 - n1 * mean1 * mean1) / (n1 - 1)) if n1 > 1 else 0.0
    var0 = max(0.0, (squares0 - n0 * mean0 * mean0) / (n0 - 1)) if n0 > 1 else 0.0
    se = math.sqrt(var1 / n1 + var0 / n0)
    diff = mean1 - mean0
    return Interval(diff, diff - Z95 * se, diff + Z95 * se)


VERDICTS = {
    "positive": "effet positif probable",
    "negative": "effet négatif probable",
    "none": "pas d'effet mesurable",
    "small": "échantillon trop petit",
}


def verdict(texted: "Group", control: "Group", conversion: Interval) -> str:
    """The plain-French reading of the conversion uplift's interval."""
    if (
        texted.clients < MIN_GROUP_CLIENTS
        or control.clients < MIN_GROUP_CLIENTS
        or texted.buyers + control.buyers < MIN_BUYERS
    ):
        return "small"
    if conversion.low > 0:
        return "positive"
    if conversion.high < 0:
        return "negative"
    return "none"


# --- the measure ---------------------------------------------------------------------------


@dataclass
class Group:
    name: str  # "texted", "control", "A", "B"
    clients: int = 0
    buyers: int = 0
    revenue: float = 0.0
    revenue_squares: float = 0.0  # Σ (revenue per client)², for the interval
    tickets: int = 0
    buyers_own_store: int = 0
    buyers_other_store: int = 0
    revenue_own_store: float = 0.0
    cumulative: list[int] = field(default_factory=list)  # buyers by the end of day 0, 1, …
    # SMS handed to the operator and delivered (None for the control group, never texted)
    sent: int | None = None
    delivered: int | None = None
    # A variant's conversion against the control group's (A/B texts), with its interval.
    conversion_uplift: dict[str, float] | None = None

    @property
    def conversion(self) -> float | None:
        return self.buyers / self.clients if self.clients else None

    @property
    def basket(self) -> float | None:
        return self.revenue / self.tickets if self.tickets else None

    @property
    def per_client(self) -> float | None:
        return self.revenue / self.clients if self.clients else None

    @property
    def revenue_other_store(self) -> float:
        return self.revenue - self.revenue_own_store


@dataclass
class Results:
    campaign_id: int
    start: date
    days: int  # the attribution window
    elapsed: int  # days of the window already over (≤ days)
    texted: Group
    control: Group
    variants: list[Group]  # [Group A, Group B] for an A/B campaign, else []
    credits: int
    verdict: str = "small"
    conversion: Interval | None = None
    per_client: Interval | None = None
    incremental_revenue: Interval | None = None
    incremental_buyers: float | None = None
    cost_per_incremental_buyer: float | None = None

    @property
    def provisional(self) -> bool:
        return self.elapsed < self.days

    @property
    def verdict_text(self) -> str:
        return VERDICTS[self.verdict]

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> Self:
        data = json.loads(text)
        data["start"] = date.fromisoformat(data["start"])
        for key in ("texted", "control"):
            data[key] = Group(**data[key])
        data["variants"] = [Group(**group) for group in data["variants"]]
        for key in ("conversion", "per_client", "incremental_revenue"):
            if data[key] is not None:
                data[key] = Interval(**data[key])
        return cls(**data)


# While a campaign sends (its figures not kept yet, result_figures), sales come in from
# the stores for a while after the day they were made: its results are measured again
# while they may still change, and read from their snapshot otherwise.
REFRESH_AFTER = timedelta(hours=1)
LATE_SALES = timedelta(days=7)


# Above this many recipients the sales take longer than a page may: a job measures them
# (jobs.measure_results: while it sends, or to keep the figures of a campaign sent before
# they were kept) while the page shows the last figures, or says it is measuring.
MEASURE_IN_JOB_ABOVE = 50_000


def snapshot(campaign: Campaign, *, now: datetime | None = None) -> tuple[Results | None, bool]:
    """(the results last kept or None, whether they are still good to show as final)."""
    if not campaign.results or campaign.results_at is None:
        return None, False
    kept = Results.from_json(campaign.results)
    window_end = kept.start + timedelta(days=kept.days)
    final = hours._paris(campaign.results_at).date() >= window_end + LATE_SALES
    fresh = (now or utcnow()) - campaign.results_at < REFRESH_AFTER
    return kept, kept.days == int(settings.get("attribution_days")) and (final or fresh)


def in_job(campaign: Campaign) -> bool:
    return campaign.recipients_count > MEASURE_IN_JOB_ABOVE


def refresh(campaign_id: int) -> str | None:
    """The job: measure the campaign and keep the figures."""
    campaign = db.session.get(Campaign, campaign_id)
    if not measurable(campaign):
        return None
    return current(campaign, force=True).verdict


def figures_kept(campaign: Campaign) -> bool:
    """Whether the campaign's figures are kept as sales come in (result_figures): once
    its sending is over, its recipients final."""
    return campaign.status == "sent"


def start_keeping(campaign: Campaign | None) -> None:
    """At the end of a measurable campaign's sending: its figures kept from now on."""
    if measurable(campaign):
        days = int(settings.get("attribution_days"))
        result_figures.build(campaign, start_day(campaign), days)


def current(
    campaign: Campaign,
    *,
    now: datetime | None = None,
    today: date | None = None,
    force: bool = False,
) -> Results:
    """The campaign's results. A sent campaign's are read from the figures kept as
    sales come in (measured once first if they are not kept yet, or for another
    window). While it sends: the snapshot when it is recent, else measured now."""
    now = now or utcnow()
    days = int(settings.get("attribution_days"))
    if figures_kept(campaign):
        start = start_day(campaign)
        if result_figures.ready(campaign, start, days):
            return read(campaign, today=today, days=days)
        result_figures.build(campaign, start, days)
        result = read(campaign, today=today, days=days)
    else:
        snap, good = snapshot(campaign, now=now)
        if good and not force and snap is not None:  # good: there is a snapshot
            return snap
        result = measure(campaign, today=today, days=days)
    # Kept too as the last figures shown, for the page while a job measures them again.
    campaign.results, campaign.results_at = result.to_json(), now
    db.session.commit()
    return result


def for_page(campaign: Campaign) -> tuple[Results | None, bool]:
    """(results or None, whether a job is measuring them) for the « Résultats » page:
    the kept figures of a sent campaign; a large campaign not kept yet (sent before they
    were kept, or for another window) is measured by a job, the page showing its last
    figures meanwhile."""
    if not measurable(campaign):
        return None, False
    days = int(settings.get("attribution_days"))
    if figures_kept(campaign) and result_figures.ready(campaign, start_day(campaign), days):
        return read(campaign, days=days), False
    if not in_job(campaign):
        return current(campaign), False
    last, good = snapshot(campaign)
    if figures_kept(campaign) or not good:
        background.measure_results(campaign.id)
        return last, True
    return last, False


def start_day(campaign: Campaign) -> date:
    """The day the sending began, in Paris: the first day of the window."""
    began = campaign.started_at or campaign.finished_at or campaign.created_at
    return hours._paris(began).date()


def measurable(campaign: Campaign | None) -> TypeGuard[Campaign]:
    return (
        campaign is not None
        and campaign.kind == "marketing"
        and campaign.status in ("sending", "sent")
        and campaign.control_share > 0
    )


class MemberCounts(TypedDict):
    texted: dict[str, int]  # variant ("" with one text) -> clients
    control: int


def member_counts(campaign_id: int) -> MemberCounts:
    """{"texted": {variant: clients}, "control": clients}, without reading the campaign's
    messages: the texted (every row not skipped; a marketing campaign's rows come from its
    recipient list, one client each) from the counts the database keeps per variant, the
    control group counted along its partial index (ix_messages_control)."""
    texted = db.session.execute(
        select(CampaignCount.variant, func.sum(CampaignCount.messages))
        .where(CampaignCount.campaign_id == campaign_id, CampaignCount.state != "skipped")
        .group_by(CampaignCount.variant)
    ).all()
    control = db.session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.campaign_id == campaign_id, Message.skip_reason == CONTROL)
    )
    return {
        "texted": {variant: int(number or 0) for variant, number in texted if number},
        "control": int(control or 0),
    }


def measure(campaign: Campaign, *, today: date | None = None, days: int | None = None) -> Results:
    """The campaign's results, read from the sales: the purchases of the window (along
    ix_purchases_date_client) whose client the campaign meant to text or held out, per
    client, then per group and first day of buying; one query whose cost follows the
    chain's sales in the window, not the campaign's size (the clients who bought nothing
    count from member_counts). The reference the kept figures (read) must equal."""
    days = days or int(settings.get("attribution_days"))
    start = start_day(campaign)
    end = start + timedelta(days=days)
    grp = case((Message.skip_reason == CONTROL, "control"), else_="texted")
    chain_wide = campaign.store_id is None
    own_store = Client.store_id if chain_wide else literal(campaign.store_id)
    in_own = Purchase.store_id == own_store
    by_client = (
        select(
            grp.label("grp"),
            Message.variant.label("variant"),
            func.min(Purchase.date).label("first_day"),
            func.sum(Purchase.amount).label("revenue"),
            func.count().label("tickets"),
            func.max(case((in_own, 1), else_=0)).label("own"),
            func.max(case((in_own, 0), else_=1)).label("other"),
            func.sum(case((in_own, Purchase.amount), else_=0)).label("own_revenue"),
        )
        .select_from(Purchase)
        .join(
            Message,
            and_(
                Message.client_id == Purchase.client_id,
                Message.campaign_id == campaign.id,
                or_(Message.state != "skipped", Message.skip_reason == CONTROL),
            ),
        )
        .where(Purchase.date >= start, Purchase.date < end)
        .group_by(Purchase.client_id, grp, Message.variant)
    )
    if chain_wide:  # the store a client buys in is compared with their own
        by_client = by_client.join(Client, Client.id == Purchase.client_id)
    per_client = by_client.subquery()
    revenue = per_client.c.revenue
    if db.session.get_bind().dialect.name == "postgresql":
        # A window's sales at a chain's size (200,000 rows at 1,000,000 clients): JIT
        # compiled this aggregate for 0.4 s, more than it saved, and the per-client sort
        # spilled to disk at the default work_mem. For this transaction only.
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL work_mem = '32MB'"))
    key = (per_client.c.grp, per_client.c.variant, per_client.c.first_day)
    rows = db.session.execute(
        select(
            *key,
            func.count(),
            func.sum(revenue),
            # Not through Numeric(10, 2): SQLite's REAL would be rounded to the cent.
            type_coerce(func.sum(revenue * revenue), Float),
            func.sum(per_client.c.tickets),
            func.sum(per_client.c.own),
            func.sum(per_client.c.other),
            func.sum(per_client.c.own_revenue),
        )
        .group_by(*key)
        .order_by(*key)
    ).all()
    return _assemble(campaign, rows, start=start, days=days, today=today)


def read(campaign: Campaign, *, today: date | None = None, days: int | None = None) -> Results:
    """The campaign's results from the figures kept as sales come in (result_figures):
    a row per group, variant and first day of buying, whatever the chain's sales."""
    days = days or int(settings.get("attribution_days"))
    rows = result_figures.rows(campaign.id)
    return _assemble(campaign, rows, start=start_day(campaign), days=days, today=today)


def _assemble(
    campaign: Campaign, rows: Sequence[Row], *, start: date, days: int, today: date | None
) -> Results:
    """Results from the aggregate's rows (group, variant, first day of buying, buyers,
    revenue, Σ revenue², tickets, buyers in the sending store, in another, revenue in
    the sending store), in group, variant and day order, and the members' counts."""
    today = today or hours._paris(utcnow()).date()
    elapsed = max(0, min(days, (today - start).days))
    counts = member_counts(campaign.id)
    groups = {"texted": Group("texted"), "control": Group("control")}
    groups["control"].clients = counts["control"]
    variants: dict[str, Group] = {}
    for variant, clients in counts["texted"].items():
        groups["texted"].clients += clients
        if variant:
            variants.setdefault(variant, Group(variant)).clients += clients
    by_day: dict[str, list[int]] = {}
    for grp_, variant, first_day, buyers, rev, squares, tickets, own, other, own_rev in rows:
        keys = [grp_] + ([variant] if grp_ == "texted" and variant else [])
        if isinstance(first_day, str):  # SQLite's MIN() of a date
            first_day = date.fromisoformat(first_day)
        for key in keys:
            target = groups[key] if key in groups else variants.setdefault(key, Group(key))
            target.buyers += int(buyers)
            target.revenue += float(rev or 0)
            target.revenue_squares += float(squares or 0)
            target.tickets += int(tickets or 0)
            target.buyers_own_store += int(own or 0)
            target.buyers_other_store += int(other or 0)
            target.revenue_own_store += float(own_rev or 0)
            by_day.setdefault(key, [0] * days)[(first_day - start).days] += int(buyers)
    _sms_figures(campaign.id, groups["texted"], variants)
    for key, group in [*groups.items(), *variants.items()]:
        running, cumulative = 0, list[int]()
        for number in by_day.get(key, [0] * days)[: max(elapsed, 1)]:
            running += number
            cumulative.append(running)
        group.cumulative = cumulative
    result = Results(
        campaign_id=campaign.id,
        start=start,
        days=days,
        elapsed=elapsed,
        texted=groups["texted"],
        control=groups["control"],
        variants=[variants[k] for k in sorted(variants)],
        credits=spent(campaign.id),
    )
    _uplift(result)
    return result


def _sms_figures(campaign_id: int, texted: Group, variants: dict[str, Group]) -> None:
    """The SMS sent and delivered, of the texted and of each variant, from the counts the
    database keeps (no message read)."""
    counts = progress(campaign_id)
    texted.sent = sum(counts[state] for state in SENT_STATES)
    texted.delivered = counts["delivered"]
    for figures in variant_figures(campaign_id):
        group = variants.setdefault(figures.variant, Group(figures.variant))
        group.sent, group.delivered = figures.sent, figures.delivered


def _uplift(result: Results) -> None:
    texted, control = result.texted, result.control
    if texted.clients < 2 or control.clients < 2:
        return
    for variant in result.variants:
        if variant.clients >= 2:
            variant.conversion_uplift = asdict(
                proportion_difference(
                    variant.buyers, variant.clients, control.buyers, control.clients
                )
            )
    result.conversion = proportion_difference(
        texted.buyers, texted.clients, control.buyers, control.clients
    )
    result.per_client = mean_difference(
        texted.revenue,
        texted.revenue_squares,
        texted.clients,
        control.revenue,
        control.revenue_squares,
        control.clients,
    )
    n = texted.clients
    result.incremental_revenue = Interval(
        *(
            n * value
            for value in (result.per_client.estimate, result.per_client.low, result.per_client.high)
        )
    )
    result.incremental_buyers = n * result.conversion.estimate
    if result.incremental_buyers > 0:
        result.cost_per_incremental_buyer = result.credits / result.incremental_buyers
    result.verdict = verdict(texted, control, result.conversion)


def spent(campaign_id: int) -> int:
    """Credits the campaign's SMS cost: the parts handed to the operator (the report's
    credits, reports.SENT_STATES), from the counts the database keeps."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(CampaignCount.parts), 0)).where(
                CampaignCount.campaign_id == campaign_id, CampaignCount.state.in_(SENT_STATES)
            )
        )
        or 0
    )


# --- « Résultats des campagnes »: the last 12 months, for managers and head office -------

LIST_SORTS = ("date", "uplift", "revenue", "recipients")
LIST_MONTHS = 12


@dataclass
class Line:
    campaign_id: int
    name: str
    store: str
    started_at: datetime | None  # naive UTC
    result: Results | None


def listing(
    user: Person,
    *,
    store_id: int | None = None,
    sort: str = "date",
    now: datetime | None = None,
) -> list[Line]:
    """Every marketing campaign with a control group sent in the last 12 months that this
    person sees, with its results as last measured (the results page measures them; a
    campaign nobody opened yet is measured here, once). Sorted by `sort`, newest first or
    largest first."""
    now = now or utcnow()
    since = now - timedelta(days=365 * LIST_MONTHS // 12)
    query = (
        select(Campaign, Store.name)
        .outerjoin(Store, Store.id == Campaign.store_id)
        .where(
            Campaign.kind == "marketing",
            Campaign.status.in_(("sending", "sent")),
            Campaign.control_share > 0,
            Campaign.started_at >= since,
        )
    )
    query = access.scoped(query, Campaign.store_id, user)
    if store_id is not None:
        query = query.where(Campaign.store_id == store_id)
    lines: list[Line] = []
    days = int(settings.get("attribution_days"))
    for campaign, store_name in db.session.execute(query):
        result: Results | None
        if figures_kept(campaign) and result_figures.ready(campaign, start_day(campaign), days):
            result = read(campaign, days=days)
        else:
            last, _ = snapshot(campaign, now=now)
            # A large campaign nobody opened yet is measured by its page's job, not here.
            result = last or (None if in_job(campaign) else current(campaign))
        lines.append(
            Line(campaign.id, campaign.name, store_name or "", campaign.started_at, result)
        )

    def uplift(line: Line) -> float:
        conversion = line.result and line.result.conversion
        return conversion.estimate if conversion else -9

    def revenue(line: Line) -> float:
        incremental = line.result and line.result.incremental_revenue
        return incremental.estimate if incremental else -1e18

    keys: dict[str, Callable[[Line], Any]] = {
        "date": lambda line: line.started_at,
        "uplift": uplift,
        "revenue": revenue,
        "recipients": lambda line: line.result.texted.clients if line.result else -1,
    }
    lines.sort(key=keys.get(sort, keys["date"]), reverse=True)
    return lines


LIST_HEADER = (
    "N°",
    "Campagne",
    "Magasin",
    "Envoyée le",
    "Clients textés",
    "Groupe témoin",
    "Taux d'achat textés (%)",
    "Taux d'achat témoin (%)",
    "Écart (points)",
    "Écart IC 95 % bas",
    "Écart IC 95 % haut",
    "CA supplémentaire (€)",
    "CA supplémentaire IC 95 % bas",
    "CA supplémentaire IC 95 % haut",
    "Verdict",
    "Crédits dépensés",
    "Coût par acheteur supplémentaire (crédits)",
    "Provisoire",
    # A/B texts: each variant's clients, SMS sent, conversion and gap with the control group
    "Variante A : clients",
    "Variante A : SMS envoyés",
    "Variante A : taux d'achat (%)",
    "Variante A : écart (points)",
    "Variante B : clients",
    "Variante B : SMS envoyés",
    "Variante B : taux d'achat (%)",
    "Variante B : écart (points)",
)
VARIANT_COLUMNS = 8


def list_rows(lines: Iterable[Line]) -> Iterator[tuple[Any, ...]]:
    """The list as plain rows (exports): figures as numbers, the verdict in words."""

    def r(value: float | None, digits: int = 2) -> float | None:
        return None if value is None else round(value, digits)

    for line in lines:
        res = line.result
        if res is None:  # not measured yet (a large campaign nobody opened)
            yield (
                line.campaign_id,
                line.name,
                line.store or "Siège",
                hours._paris(line.started_at).replace(tzinfo=None) if line.started_at else None,
                *([None] * (14 + VARIANT_COLUMNS)),
            )
            continue
        conversion, revenue = res.conversion, res.incremental_revenue
        yield (
            line.campaign_id,
            line.name,
            line.store or "Siège",
            hours._paris(line.started_at).replace(tzinfo=None) if line.started_at else None,
            res.texted.clients,
            res.control.clients,
            r(100 * res.texted.conversion if res.texted.conversion is not None else None),
            r(100 * res.control.conversion if res.control.conversion is not None else None),
            r(100 * conversion.estimate) if conversion else None,
            r(100 * conversion.low) if conversion else None,
            r(100 * conversion.high) if conversion else None,
            r(revenue.estimate) if revenue else None,
            r(revenue.low) if revenue else None,
            r(revenue.high) if revenue else None,
            VERDICTS[res.verdict],
            res.credits,
            r(res.cost_per_incremental_buyer, 1),
            f"J+{res.elapsed} sur {res.days}" if res.provisional else "",
            *_variant_cells(res, r),
        )


def _variant_cells(res: Results, r: Callable[[float | None], float | None]) -> list[Any]:
    cells: list[Any] = []
    by_name = {group.name: group for group in res.variants}
    for name in ("A", "B"):
        group = by_name.get(name)
        if group is None:
            cells += [None] * (VARIANT_COLUMNS // 2)
            continue
        gap = group.conversion_uplift
        cells += [
            group.clients,
            group.sent,
            r(100 * group.conversion) if group.conversion is not None else None,
            r(100 * gap["estimate"]) if gap else None,
        ]
    return cells


def list_csv(lines: Iterable[Line]) -> Iterator[bytes]:
    """`;`-separated UTF-8 with a BOM (French Excel), a line at a time."""
    yield "\ufeff".encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(LIST_HEADER)
    for row in list_rows(lines):
        writer.writerow(
            [
                value.strftime("%d/%m/%Y %H:%M")
                if hasattr(value, "strftime")
                else str(value).replace(".", ",")
                if isinstance(value, float)
                else _safe(value)
                if isinstance(value, str)
                else value
                for value in row
            ]
        )
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()


def list_xlsx(lines: Iterable[Line]) -> bytes:
    """The list as an .xlsx file (openpyxl's write-only mode), as bytes."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Résultats des campagnes")
    sheet.append(list(LIST_HEADER))
    for row in list_rows(lines):
        sheet.append([_safe(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
