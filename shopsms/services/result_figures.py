"""A sent campaign's « Résultats » figures, kept up to date as sales come in.

results.measure() reads the chain's sales of the attribution window at each view: at a
chain's size (1,000,000 clients, 10,000,000 purchases) seconds, more than the report page.
So, as campaign_counts keeps a report's counts while messages change, the figures are kept
while purchases change, in the transaction that writes them, whoever writes (the import's
two paths, the API, the demo):

- result_windows: the campaigns kept, with their window;
- result_buyers: per campaign and buyer, what they bought in the window (first day,
  revenue, tickets, in the sending store or not);
- result_days: their sums per group, variant and first day of buying (with the squares
  of each buyer's revenue that the interval needs), which the page reads.

A purchase written (created, changed: its old and new client and date) marks the
(campaign, client) pairs whose window holds it (touch); refold() then measures those
buyers again from their purchases (a few index rows each) and moves the sums: the old
figures out, the new in. So a sale that arrives after a later one of the same client
moves their first day back, a corrected amount corrects the sums, and a deleted purchase
leaves them. results.measure() stays the reference the tests compare the kept figures with.

A campaign is kept from the end of its sending (its recipients are then final: while it
sends, rows are still moved to its messages or skipped), with the sales since its start;
campaigns sent before (or whose window setting changed) are measured again by build().
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Row, event, inspect, text
from sqlalchemy.orm import InstanceState, Session, UOWTransaction

from ..extensions import db
from ..models import Campaign, Purchase, ResultWindow, utcnow

CONTROL = "control"
# A campaign's member: every row the campaign meant to text, and its « groupe témoin »
# (results.measure, by intention to treat).
MEMBER = "(m.state <> 'skipped' OR m.skip_reason = 'control')"
GROUP = "CASE WHEN m.skip_reason = 'control' THEN 'control' ELSE 'texted' END"
OWN = "COALESCE(w.store_id, c.store_id)"
# One buyer's figures, from their purchases of the window (pu) and their message (m).
BUYER_COLUMNS = (
    "campaign_id, client_id, grp, variant, first_day, revenue, tickets, own_tickets, own_revenue"
)
BUYER_VALUES = f"""
    {GROUP}, m.variant, min(pu.date), sum(pu.amount), count(*),
    sum(CASE WHEN pu.store_id = {OWN} THEN 1 ELSE 0 END),
    sum(CASE WHEN pu.store_id = {OWN} THEN pu.amount ELSE 0 END)"""
DAY_COLUMNS = "buyers, revenue, squares, tickets, own, other, own_revenue"
# The sums of a set of buyers (b) per group, variant and first day.
DAY_SUMS = """
    count(*) AS buyers, sum(b.revenue) AS revenue, sum(b.revenue * b.revenue) AS squares,
    sum(b.tickets) AS tickets, sum(CASE WHEN b.own_tickets > 0 THEN 1 ELSE 0 END) AS own,
    sum(CASE WHEN b.tickets > b.own_tickets THEN 1 ELSE 0 END) AS other,
    sum(b.own_revenue) AS own_revenue"""
DAY_KEY = "campaign_id, grp, variant, first_day"
IN_PAIRS = "JOIN result_pairs p ON p.campaign_id = b.campaign_id AND p.client_id = b.client_id"


def _run(sql: str, params: Mapping[str, Any] | None = None) -> CursorResult:
    # Session.execute is typed as returning a Result; a textual statement's is a
    # CursorResult (rowcount).
    return cast(CursorResult, db.session.execute(text(sql), params or {}))


def window(campaign_id: int) -> ResultWindow | None:
    return db.session.get(ResultWindow, campaign_id)


def ready(campaign: Campaign, start: date, days: int) -> bool:
    """Whether the campaign's kept figures are those of this window."""
    kept = window(campaign.id)
    return kept is not None and kept.start_day == start and kept.days == days


def build(campaign: Campaign, start: date, days: int) -> None:
    """Measure a campaign's figures from the sales of its window and keep them from now
    on: at the end of its sending (the sales since it started), or for a campaign sent
    before, or whose window changed (a job above results.MEASURE_IN_JOB_ABOVE)."""
    campaign_id = campaign.id
    params = {"id": campaign_id}
    _run("DELETE FROM result_days WHERE campaign_id = :id", params)
    _run("DELETE FROM result_buyers WHERE campaign_id = :id", params)
    kept = window(campaign_id)
    if kept is None:
        kept = ResultWindow(campaign_id=campaign_id)
        db.session.add(kept)
    kept.start_day, kept.end_day, kept.days = start, start + timedelta(days=days), days
    kept.store_id, kept.built_at = campaign.store_id, utcnow()
    db.session.flush()
    if db.session.get_bind().dialect.name == "postgresql":
        # As results.measure: a window's sales at a chain's size, for this transaction.
        _run("SET LOCAL jit = off")
        _run("SET LOCAL work_mem = '32MB'")
    # Along ix_purchases_date_client: the window's sales, then their clients' messages.
    _run(
        f"""
        INSERT INTO result_buyers ({BUYER_COLUMNS})
        SELECT w.campaign_id, pu.client_id, {BUYER_VALUES}
        FROM result_windows w
        JOIN purchases pu ON pu.date >= w.start_day AND pu.date < w.end_day
        JOIN messages m ON m.campaign_id = w.campaign_id AND m.client_id = pu.client_id
             AND {MEMBER}
        JOIN clients c ON c.id = pu.client_id
        WHERE w.campaign_id = :id
        GROUP BY w.campaign_id, pu.client_id, {GROUP}, m.variant
        """,
        params,
    )
    _run(
        f"""
        INSERT INTO result_days ({DAY_KEY}, {DAY_COLUMNS})
        SELECT b.campaign_id, b.grp, b.variant, b.first_day, {DAY_SUMS}
        FROM result_buyers b WHERE b.campaign_id = :id
        GROUP BY b.campaign_id, b.grp, b.variant, b.first_day
        """,
        params,
    )


def forget(campaign_id: int) -> None:
    """No more kept figures for this campaign (measured from the sales again)."""
    params = {"id": campaign_id}
    for table in ("result_days", "result_buyers", "result_windows"):
        _run(f"DELETE FROM {table} WHERE campaign_id = :id", params)


def any_kept() -> bool:
    return _run("SELECT 1 FROM result_windows LIMIT 1").first() is not None


def touch_select(touched_sql: str, params: Mapping[str, Any] | None = None) -> int:
    """Mark the (campaign, client) pairs whose window holds one of the purchases that
    `touched_sql` selects as (client_id, date): before a write, the rows as they were;
    after it, as they are. Returns how many pairs were marked."""
    result = _run(
        f"""
        INSERT INTO result_pairs (campaign_id, client_id)
        SELECT DISTINCT w.campaign_id, t.client_id
        FROM ({touched_sql}) AS t
        JOIN result_windows w ON t.date >= w.start_day AND t.date < w.end_day
        JOIN messages m ON m.client_id = t.client_id AND m.campaign_id = w.campaign_id
        WHERE t.client_id IS NOT NULL
        ORDER BY 1, 2
        ON CONFLICT DO NOTHING
        """,
        params,
    )
    return result.rowcount


def touch(purchases: Sequence[tuple[int | None, date | None]]) -> int:
    """touch_select for purchases given as (client_id, date) pairs (the SQLite import,
    the API): only those that fall in a kept window reach the database."""
    if not purchases:
        return 0
    windows = _run("SELECT start_day, end_day FROM result_windows").all()
    if not windows:
        return 0

    def day(value: date | str) -> date:
        return date.fromisoformat(value) if isinstance(value, str) else value

    bounds = [(day(start), day(end)) for start, end in windows]
    wanted = sorted(
        {
            (client_id, when)
            for client_id, when in purchases
            if client_id is not None
            and when is not None
            and any(start <= when < end for start, end in bounds)
        }
    )
    marked = 0
    for first in range(0, len(wanted), 500):
        chunk = wanted[first : first + 500]
        params: dict[str, Any] = {}
        rows: list[str] = []
        for number, (client_id, when) in enumerate(chunk):
            params[f"c{number}"], params[f"d{number}"] = client_id, when
            rows.append(f"SELECT :c{number} AS client_id, :d{number} AS date")
        # Bound dates are ISO text to SQLite, as its stored dates are.
        marked += touch_select(" UNION ALL ".join(rows), params)
    return marked


def touch_clients(client_ids: Iterable[int | None]) -> None:
    """Every kept campaign these clients belong to (a client's store changed, their
    purchases were deleted…): measured again by refold()."""
    ids = sorted({client_id for client_id in client_ids if client_id is not None})
    for first in range(0, len(ids), 500):
        chunk = ids[first : first + 500]
        params = {f"c{n}": client_id for n, client_id in enumerate(chunk)}
        _run(
            f"""
            INSERT INTO result_pairs (campaign_id, client_id)
            SELECT DISTINCT w.campaign_id, m.client_id
            FROM messages m JOIN result_windows w ON w.campaign_id = m.campaign_id
            WHERE m.client_id IN ({", ".join(f":{key}" for key in params)})
            ORDER BY 1, 2
            ON CONFLICT DO NOTHING
            """,
            params,
        )


def refold() -> None:
    """Measure the marked buyers again and move the sums: their old figures out of
    result_days, the new ones in. Set-based: a few statements whatever the number of
    pairs; each buyer read along their purchases (ix_purchases_client_date)."""
    if _run("SELECT 1 FROM result_pairs LIMIT 1").first() is None:
        return
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # result_pairs is empty between transactions, so its statistics say nothing of
        # the batch: the planner hashed the whole of messages, clients and result_buyers
        # (1.4 M, 1 M, 330 k rows at a chain's size) for 10,000 pairs, 2 to 5 s where
        # following their indexes takes 1.7 s. For these statements only.
        saved = _run(
            "SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin')"
        ).one()
        _run("SET LOCAL enable_hashjoin = off")
        _run("SET LOCAL enable_mergejoin = off")
    _move()
    if postgresql:
        _run(
            "SELECT set_config('enable_hashjoin', :hash, true), "
            "set_config('enable_mergejoin', :merge, true)",
            {"hash": saved[0], "merge": saved[1]},
        )


def _move() -> None:
    """refold's statements: the marked buyers' old figures out, their new ones in."""
    _run(
        f"""
        UPDATE result_days SET
            buyers = result_days.buyers - o.buyers,
            revenue = result_days.revenue - o.revenue,
            squares = result_days.squares - o.squares,
            tickets = result_days.tickets - o.tickets,
            own = result_days.own - o.own,
            other = result_days.other - o.other,
            own_revenue = result_days.own_revenue - o.own_revenue
        FROM (
            SELECT b.campaign_id, b.grp, b.variant, b.first_day, {DAY_SUMS}
            FROM result_buyers b {IN_PAIRS}
            GROUP BY b.campaign_id, b.grp, b.variant, b.first_day
        ) AS o
        WHERE result_days.campaign_id = o.campaign_id AND result_days.grp = o.grp
          AND result_days.variant = o.variant AND result_days.first_day = o.first_day
        """
    )
    _run(
        "DELETE FROM result_buyers WHERE EXISTS (SELECT 1 FROM result_pairs p "
        "WHERE p.campaign_id = result_buyers.campaign_id "
        "AND p.client_id = result_buyers.client_id)"
    )
    _run(
        "DELETE FROM result_days WHERE buyers = 0 "
        "AND campaign_id IN (SELECT campaign_id FROM result_pairs)"
    )
    _run(
        f"""
        INSERT INTO result_buyers ({BUYER_COLUMNS})
        SELECT p.campaign_id, p.client_id, {BUYER_VALUES}
        FROM result_pairs p
        JOIN result_windows w ON w.campaign_id = p.campaign_id
        JOIN messages m ON m.campaign_id = p.campaign_id AND m.client_id = p.client_id
             AND {MEMBER}
        JOIN purchases pu ON pu.client_id = p.client_id
             AND pu.date >= w.start_day AND pu.date < w.end_day
        JOIN clients c ON c.id = p.client_id
        GROUP BY p.campaign_id, p.client_id, {GROUP}, m.variant
        """
    )
    _run(
        f"""
        INSERT INTO result_days ({DAY_KEY}, {DAY_COLUMNS})
        SELECT b.campaign_id, b.grp, b.variant, b.first_day, {DAY_SUMS}
        FROM result_buyers b {IN_PAIRS}
        WHERE true
        GROUP BY b.campaign_id, b.grp, b.variant, b.first_day
        ORDER BY b.campaign_id, b.grp, b.variant, b.first_day
        ON CONFLICT ({DAY_KEY}) DO UPDATE SET
            buyers = result_days.buyers + excluded.buyers,
            revenue = result_days.revenue + excluded.revenue,
            squares = result_days.squares + excluded.squares,
            tickets = result_days.tickets + excluded.tickets,
            own = result_days.own + excluded.own,
            other = result_days.other + excluded.other,
            own_revenue = result_days.own_revenue + excluded.own_revenue
        """
    )
    _run("DELETE FROM result_pairs")


def rows(campaign_id: int) -> Sequence[Row]:
    """The kept figures as results.measure's aggregate gives them: (group, variant,
    first day, buyers, revenue, Σ revenue², tickets, own store, other store, own store
    revenue), a row per group, variant and first day."""
    return _run(
        f"""
        SELECT grp, variant, first_day, {DAY_COLUMNS} FROM result_days
        WHERE campaign_id = :id AND buyers > 0
        ORDER BY grp, variant, first_day
        """,
        {"id": campaign_id},
    ).all()


@event.listens_for(Session, "after_flush")
def _purchases_flushed(session: Session, _context: UOWTransaction) -> None:
    """Sales written through the ORM (one sale added, corrected or deleted by code that
    is not an import): their buyers measured again before the flush's transaction goes
    on. The set-based paths (imports, the API, the demo) call touch / refold themselves."""
    touched: list[tuple[int | None, date | None]] = []
    for item in session.new:
        if isinstance(item, Purchase):
            touched.append((item.client_id, item.date))
    for item in (*session.dirty, *session.deleted):
        if isinstance(item, Purchase):
            state: InstanceState[Purchase] = inspect(item)
            was: dict[str, Any] = {}
            for name in ("client_id", "date"):
                history = state.attrs[name].history
                was[name] = (history.deleted or history.unchanged or [getattr(item, name)])[0]
            touched += [(was["client_id"], was["date"]), (item.client_id, item.date)]
    if touched and touch(touched):
        refold()
