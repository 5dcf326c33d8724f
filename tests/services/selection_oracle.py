"""The campaign selection computed in plain Python, one client at a time: the oracle
the SQL of shopsms.selection is compared with."""

from datetime import date, timedelta
from decimal import Decimal

from shopsms.selection import _uses_purchase_scope, city_key, name_key


def brute_force(criteria, clients, purchases, *, today=None, store_id=None):
    """The ids the criteria select, computed from plain objects (ORM rows), one by one."""
    c = criteria
    today = today or date.today()
    by_client = {}
    for purchase in purchases:
        by_client.setdefault(purchase.client_id, []).append(purchase)

    def in_scope(p):
        return (
            (c.brand_id is None or p.brand_id == c.brand_id)
            and (c.period_start is None or p.date >= c.period_start)
            and (c.period_end is None or p.date <= c.period_end)
        )

    def compare(value, op, limit):
        return value >= limit if op == "gte" else value <= limit

    typed_name = name_key(c.name)
    selected = []
    for client in clients:
        history = by_client.get(client.id, [])
        # A store's clients: created there, or who bought there (any date, any brand).
        if store_id is not None and not (
            client.store_id == store_id or any(p.store_id == store_id for p in history)
        ):
            continue
        if c.created_store_id is not None and client.store_id != c.created_store_id:
            continue
        if c.last_visit_store_id is not None:
            if not history:
                continue
            last = max(history, key=lambda p: (p.date, p.id))
            if last.store_id != c.last_visit_store_id:
                continue
        if c.city and not (city_key(c.city) and city_key(client.city) == city_key(c.city)):
            continue
        if c.postal_code and not (client.postal_code or "").startswith(c.postal_code):
            continue
        if c.birthday_from is not None and c.birthday_to is not None:
            md = client.birthday_md
            if md is None:
                continue
            low, high = c.birthday_from, c.birthday_to
            inside = low <= md <= high if low <= high else (md >= low or md <= high)
            if not inside:
                continue
        if c.name and not (typed_name and name_key(client.last_name).startswith(typed_name)):
            continue
        if c.sms == "with" and client.sms_consent != "accepted":
            continue
        if c.sms == "without" and client.sms_consent == "accepted":
            continue
        incomplete = not (
            client.address1.strip() and client.postal_code.strip() and client.city.strip()
        )
        if c.address_incomplete == "yes" and not incomplete:
            continue
        if c.address_incomplete == "no" and incomplete:
            continue
        if c.npai == "yes" and not client.npai or c.npai == "no" and client.npai:
            continue
        if c.absent_days is not None:
            since = today - timedelta(days=c.absent_days)
            if any(p.date > since for p in history):
                continue
            if not history and client.created_on > since:
                continue
        if _uses_purchase_scope(c):
            scoped = [p for p in history if in_scope(p)]
            total = sum((p.amount for p in scoped), Decimal(0))
            at_most = (c.revenue is not None and c.revenue_op == "lte") or (
                c.visits is not None and c.visits_op == "lte"
            )
            # Only clients who bought in the scope, unless « ≤ » is asked to keep the
            # others too (their revenue and visits are 0).
            if not scoped and not (c.no_purchase_too and at_most):
                continue
            if c.revenue is not None and not compare(total, c.revenue_op, c.revenue):
                continue
            if c.visits is not None and not compare(len(scoped), c.visits_op, c.visits):
                continue
            if (
                c.revenue is not None
                and c.revenue_op == "gte"
                or c.visits is not None
                and c.visits_op == "gte"
            ) and not scoped:
                continue
        selected.append(client.id)
    return sorted(selected)
