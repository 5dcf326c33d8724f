"""Client selection for campaigns: criteria (a dataclass) turned into one SQL query.

Every criterion is optional and they all combine (« tous les filtres sont cumulables »).
Purchase criteria share one scope: the period (both bounds optional) and the brand
(« ensemble du catalogue » when none). Within that scope:
- revenue « supérieur ou égal » / « inférieur ou égal » to a value;
- number of visits (purchases) at least / at most, the same way;
- with neither, a period or a brand alone means « clients who bought in the period ».
Purchase criteria keep only clients with at least one purchase in the scope, as a
StarMag user reads « CA ≤ 100 € »; with `no_purchase_too` (a box on the screen), an
« inférieur ou égal » also keeps the clients who bought nothing in the scope (their
revenue and visits are 0).
"No visit for X days" looks at every purchase, any store, any brand; a client who never
bought counts once their card is older than X days.
A store's staff select their store's clients: those whose card was created there and
those who bought there (« magasin de vente »), see store_clients.

tests/services/selection_oracle.py says the same in Python, for the tests that compare
both.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    bindparam,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from .models import Client, Purchase, SharedNumber
from .services import eligibility
from .services.client_fields import city_key as _city_key
from .services.client_fields import name_words

SMS_CHOICES = ("all", "with", "without")  # « Tous » / « Avec » / « Sans »
TRI_CHOICES = ("all", "yes", "no")
COMPARISONS = ("gte", "lte")  # « Sup. ou égal » / « Inf. ou égal »
# Why a found client gets no SMS, in the order they are checked (services/eligibility).
EXCLUSIONS = eligibility.EXCLUSIONS


@dataclass(frozen=True)
class Criteria:
    created_store_id: int | None = None  # « Magasin de création de la fiche client »
    last_visit_store_id: int | None = None  # « Magasin de la dernière visite du client »
    brand_id: int | None = None  # None: « Ensemble du catalogue »
    period_start: date | None = None
    period_end: date | None = None
    revenue: Decimal | None = None
    revenue_op: str = "gte"
    visits: int | None = None
    visits_op: str = "gte"
    absent_days: int | None = None  # « Clients qui ne sont pas venus depuis … (en jours) »
    city: str = ""
    postal_code: str = ""  # a prefix: the department (2 digits) down to the full code
    birthday_from: int | None = None  # month*100+day
    birthday_to: int | None = None
    name: str = ""  # the start of the last name
    sms: str = "all"
    address_incomplete: str = "all"
    npai: str = "all"
    # « ≤ » also keeps the clients without any purchase in the scope (revenue 0, 0 visits).
    no_purchase_too: bool = False

    def is_empty(self):
        return self == Criteria()

    def to_dict(self):
        """JSON-friendly, for saved selections and campaigns."""
        out = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value == field.default:
                continue
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            out[field.name] = value
        return out

    @classmethod
    def from_dict(cls, data):
        kwargs = {}
        for field in dataclasses.fields(cls):
            if field.name not in (data or {}):
                continue
            value = data[field.name]
            if field.name in ("period_start", "period_end") and isinstance(value, str):
                value = date.fromisoformat(value)
            elif field.name == "revenue" and value is not None:
                value = Decimal(str(value))
            kwargs[field.name] = value
        return cls(**kwargs)


# --- from a form --------------------------------------------------------------------


# A century: further back than any sales history, and inside what dates can hold.
ABSENT_DAYS_MAX = 36_500


class CriteriaErrors(ValueError):
    def __init__(self, errors):
        self.errors = errors  # field name -> French message
        super().__init__("; ".join(map(str, errors.values())))


def day_month(value, label):
    """ "25/12", "25/12/1980" or "1980-12-25" → 1225 (None when empty): a birthday's day;
    ValueError with the message to show."""
    value = value.strip()
    if not value:
        return None
    try:
        if "-" in value:
            parsed = date.fromisoformat(value)
            day, month = parsed.day, parsed.month
        else:
            bits = value.split("/")
            day, month = int(bits[0]), int(bits[1])
        date(2000, month, day)  # a leap year: 29/02 is a birthday
    except (ValueError, IndexError):
        raise ValueError(_l("%(label)s : date incorrecte (jj/mm).", label=label)) from None
    return month * 100 + day


def from_values(values, unreadable=()):
    """Criteria from what the selection form read (web/campaigns.CriteriaForm: stores,
    brand, numbers, amount and days as values, None when left empty; choices and texts
    as typed). `unreadable`: the fields the form could not read (it says why); the rules
    between fields leave them out. Raises CriteriaErrors saying what else to fix."""
    errors = {}
    start, end = values.get("period_start"), values.get("period_end")
    if start and end and start > end:
        errors["period_end"] = _l("Période : la fin est avant le début.")
    postal = (values.get("postal_code") or "").strip().replace(" ", "").upper()
    if postal and not postal.isalnum():
        errors["postal_code"] = _l("Code postal : chiffres seulement (département, ou plus).")
    birthdays = (values.get("birthday_from"), values.get("birthday_to"))
    one_date = (birthdays[0] is None) != (birthdays[1] is None)
    if one_date and not set(unreadable) & {"birthday_from", "birthday_to"}:
        errors["birthday_to"] = _l("Anniversaire : donnez les deux dates (du … au …).")
    if errors:
        raise CriteriaErrors(errors)

    def choice(name, choices, default):
        return values.get(name) if values.get(name) in choices else default

    read = {
        name: values.get(name)
        for name in (
            "created_store_id",
            "last_visit_store_id",
            "brand_id",
            "period_start",
            "period_end",
            "revenue",
            "visits",
            "absent_days",
            "birthday_from",
            "birthday_to",
        )
        if values.get(name) is not None
    }
    return Criteria(
        **read,
        revenue_op=choice("revenue_op", COMPARISONS, "gte"),
        visits_op=choice("visits_op", COMPARISONS, "gte"),
        no_purchase_too=bool(values.get("no_purchase_too")),
        city=(values.get("city") or "").strip(),
        postal_code=postal,
        name=(values.get("name") or "").strip(),
        sms=choice("sms", SMS_CHOICES, "all"),
        address_incomplete=choice("address_incomplete", TRI_CHOICES, "all"),
        npai=choice("npai", TRI_CHOICES, "all"),
    )


# --- to SQL --------------------------------------------------------------------------
#
# The SQL's structure depends only on the criteria's shape (which are set, the
# comparisons, the choices); their values are named parameters. The live count runs
# again at each change in the form, mostly with new values in the same shape: the
# statement built for a shape is kept (a small LRU cache, as few shapes are in use), so
# SQLAlchemy finds its compiled SQL without building and walking a new expression.


class _Shape(NamedTuple):
    """What the SQL's structure depends on; the values are in the parameters."""

    store: bool  # restricted to the user's store
    created_store: bool
    last_visit_store: bool
    brand: bool
    period_start: bool
    period_end: bool
    revenue_op: str | None  # None: no revenue criterion
    visits_op: str | None
    absent: bool
    city: str | None  # "key", or "nothing" when the typed city has no letter to look for
    postal_code: bool
    birthday: str | None  # "range", or "wrap" from December to January
    name: str | None  # "key", or "nothing" when the typed name has no letter to look for
    sms: str
    address_incomplete: str
    npai: str
    no_purchase_too: bool  # only when a « ≤ » is set

    @property
    def has_at_most(self):
        return self.revenue_op == "lte" or self.visits_op == "lte"

    @property
    def purchase_scope(self):
        return (
            self.revenue_op is not None
            or self.visits_op is not None
            or self.brand
            or self.period_start
            or self.period_end
        )


def _next_prefix(text):
    """The smallest string above every string starting with `text` (a range, not LIKE,
    so the postal code index is used)."""
    return text[:-1] + chr(ord(text[-1]) + 1)


def _like_escaped(text):
    # What startswith(..., autoescape=True) does, which needs the value in the SQL.
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _shape_and_params(c, *, today, store_id):
    """The criteria split into the SQL's shape and its parameters' values."""
    params = {}
    optional = {
        "store_id": store_id,
        "created_store_id": c.created_store_id,
        "last_visit_store_id": c.last_visit_store_id,
        "brand_id": c.brand_id,
        "period_start": c.period_start,
        "period_end": c.period_end,
        "revenue": c.revenue,
        "visits": c.visits,
    }
    params.update((key, value) for key, value in optional.items() if value is not None)
    if c.absent_days is not None:
        params["absent_since"] = (today or date.today()) - timedelta(days=c.absent_days)
    city = None
    if c.city:
        city = "key" if city_key(c.city) else "nothing"
        params["city_key"] = city_key(c.city)
    if c.postal_code:
        params["postal_low"], params["postal_high"] = c.postal_code, _next_prefix(c.postal_code)
    birthday = None
    if c.birthday_from is not None and c.birthday_to is not None:
        params["birthday_from"], params["birthday_to"] = c.birthday_from, c.birthday_to
        birthday = "range" if c.birthday_from <= c.birthday_to else "wrap"
    name = None
    if c.name:
        folded = name_key(c.name)
        name = "key" if folded else "nothing"
        if folded:
            params["name_key"] = _like_escaped(folded)
            params["name_lower"] = _like_escaped(c.name.lower())
            params["name_upper"] = _like_escaped(c.name.upper())
    shape = _Shape(
        store=store_id is not None,
        created_store=c.created_store_id is not None,
        last_visit_store=c.last_visit_store_id is not None,
        brand=c.brand_id is not None,
        period_start=c.period_start is not None,
        period_end=c.period_end is not None,
        revenue_op=c.revenue_op if c.revenue is not None else None,
        visits_op=c.visits_op if c.visits is not None else None,
        absent=c.absent_days is not None,
        city=city,
        postal_code=bool(c.postal_code),
        birthday=birthday,
        name=name,
        sms=c.sms,
        address_incomplete=c.address_incomplete,
        npai=c.npai,
        no_purchase_too=c.no_purchase_too
        and "lte"
        in (
            c.revenue_op if c.revenue is not None else None,
            c.visits_op if c.visits is not None else None,
        ),
    )
    return shape, params


def _purchase_scope(s, param):
    conditions = []
    if s.brand:
        conditions.append(Purchase.brand_id == param("brand_id"))
    if s.period_start:
        conditions.append(Purchase.date >= param("period_start"))
    if s.period_end:
        conditions.append(Purchase.date <= param("period_end"))
    return conditions


def _uses_purchase_scope(criteria):
    """_Shape.purchase_scope, on the criteria themselves (for the tests' oracle)."""
    return _shape_and_params(criteria, today=None, store_id=None)[0].purchase_scope


def _aggregate_conditions(s, param, *, keep):
    """HAVING conditions on the scope's purchases. keep=True: what a client who bought in
    the scope must satisfy; keep=False: what excludes them (for « inférieur ou égal »).
    Without no_purchase_too, every condition is a keep condition: the client must have
    bought in the scope."""
    total, visits = func.sum(Purchase.amount), func.count(Purchase.id)
    out = []
    if not s.no_purchase_too:
        if not keep:
            return out
        if s.revenue_op is not None:
            value = param("revenue", type_=Purchase.amount.type)
            out.append(total >= value if s.revenue_op == "gte" else total <= value)
        if s.visits_op is not None:
            value = param("visits", type_=Integer)
            out.append(visits >= value if s.visits_op == "gte" else visits <= value)
        return out
    if s.revenue_op is not None and (s.revenue_op == "gte") == keep:
        value = param("revenue", type_=Purchase.amount.type)
        out.append(total >= value if keep else total > value)
    if s.visits_op is not None and (s.visits_op == "gte") == keep:
        value = param("visits", type_=Integer)
        out.append(visits >= value if keep else visits > value)
    return out


def _simple_conditions(s, client, param):
    """The criteria that read the client's own columns, on `client` (Client or an alias)."""
    where = []
    if s.store:
        where.append(client.id.in_(store_clients(param("store_id"))))
    if s.created_store:
        where.append(client.store_id == param("created_store_id"))
    if s.city == "key":
        # Without accents, capitals, spaces or hyphens, from the indexed city_key:
        # "merignac" finds "Mérignac" and "MERIGNAC", the same on SQLite and PostgreSQL.
        where.append(client.city_key == param("city_key", type_=String))
    elif s.city == "nothing":
        where.append(false())
    if s.postal_code:
        where.append(client.postal_code >= param("postal_low"))
        where.append(client.postal_code < param("postal_high"))
    if s.birthday == "range":
        where.append(client.birthday_md.between(param("birthday_from"), param("birthday_to")))
    elif s.birthday == "wrap":
        where.append(
            or_(
                client.birthday_md >= param("birthday_from"),
                client.birthday_md <= param("birthday_to"),
            )
        )
    if s.name == "key":
        # The start of the last name, whatever the accents and capitals ("ét" finds
        # "Étchegaray" and "ETCHE"), read from the normalised search_name, which begins
        # with the last name run together: the same on SQLite (whose lower() folds ASCII
        # only) and on PostgreSQL.
        # A card written before search_name existed (empty) is still found, as before:
        # by its last name in the capitals typed or, for ASCII letters, in any case.
        unfolded = and_(
            client.search_name == "",
            or_(
                func.lower(client.last_name).startswith(
                    param("name_lower", type_=String), escape="/"
                ),
                client.last_name.startswith(param("name_upper"), escape="/"),
            ),
        )
        where.append(or_(client.search_name.startswith(param("name_key"), escape="/"), unfolded))
    elif s.name == "nothing":
        where.append(false())
    if s.sms == "with":
        where.append(client.sms_consent == "accepted")
    elif s.sms == "without":
        where.append(client.sms_consent != "accepted")
    incomplete = or_(
        func.trim(client.address1) == "",
        func.trim(client.postal_code) == "",
        func.trim(client.city) == "",
    )
    if s.address_incomplete == "yes":
        where.append(incomplete)
    elif s.address_incomplete == "no":
        where.append(not_(incomplete))
    if s.npai == "yes":
        where.append(client.npai.is_(True))
    elif s.npai == "no":
        where.append(client.npai.is_(False))
    return where


# Aliases of their own: inside a query on clients or purchases, the subquery must not be
# correlated to the outer query's tables.
_STORE_CARD = aliased(Client, name="store_card")
_STORE_SALE = aliased(Purchase, name="store_sale")


def store_clients(store_id):
    """A store's clients, as its staff select them: the cards created in the store, and
    the clients who bought there (« magasin de vente »), wherever their card was made.
    Two index reads (ix_clients_store_id, ix_purchases_store_client), whatever the size
    of the file. `store_id` is a value or a bind parameter."""
    created = select(_STORE_CARD.id).where(_STORE_CARD.store_id == store_id)
    bought = select(_STORE_SALE.client_id).where(_STORE_SALE.store_id == store_id)
    return created.union(bought)


def city_key(text):
    """A city as the « Ville » criterion compares it (services.client_fields.city_key)."""
    return _city_key(text)


def name_key(text):
    """A name as the name search compares it: without accents, capitals, spaces and
    hyphens ("Le Gall" → "LEGALL"), as services.client_fields.search_name begins."""
    return "".join(name_words(text))


# Made once: SQLAlchemy adapts every column of an alias, which is slow to repeat.
_SELECTED_CLIENT = aliased(Client, name="selected_client")


def _build_conditions(s, param):
    """WHERE conditions on Client (and subqueries) for this shape; param(name) gives the
    parameter `name` (see _unbound and _bound)."""
    where = _simple_conditions(s, Client, param)
    if s.last_visit_store:
        last = (
            select(Purchase.store_id)
            .where(Purchase.client_id == Client.id)
            .order_by(Purchase.date.desc(), Purchase.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        where.append(last == param("last_visit_store_id"))
    if s.absent:
        # "Not come for X days": no purchase since; a client who never bought counts
        # only once their card is older than X days (a card made yesterday is no lapsed
        # client).
        since = param("absent_since", type_=Date)
        recent = select(Purchase.id).where(Purchase.client_id == Client.id, Purchase.date > since)
        where.append(~recent.exists())
        bought_in_scope = s.purchase_scope and (
            _aggregate_conditions(s, param, keep=True)
            or not _aggregate_conditions(s, param, keep=False)
        )
        if not bought_in_scope:  # else the purchase criteria below already ask a purchase
            ever = select(Purchase.id).where(Purchase.client_id == Client.id)
            where.append(or_(Client.created_on <= since, ever.exists()))
    if s.purchase_scope:
        scope = _purchase_scope(s, param)
        keep = _aggregate_conditions(s, param, keep=True)
        drop = _aggregate_conditions(s, param, keep=False)
        # The purchases are aggregated for the clients the other criteria keep (joined
        # first, as a hand-written query would), not for the whole file.
        inner = _SELECTED_CLIENT
        narrowed = _simple_conditions(s, inner, param)

        def per_client():
            query = select(Purchase.client_id)
            if narrowed:
                query = query.join(inner, inner.id == Purchase.client_id)
            return query.where(*scope, *narrowed).group_by(Purchase.client_id)

        if keep or not drop:
            # Clients who bought in the scope (and, with HAVING, enough).
            bought = per_client()
            if keep:
                bought = bought.having(and_(*keep))
            where.append(Client.id.in_(bought))
        if drop:
            where.append(Client.id.not_in(per_client().having(or_(*drop))))
    return where


def _unbound(name, type_=None):
    """For the cached statements: the value is required at each execution."""
    return bindparam(name, type_=type_)


def _bound(params):
    """For client_conditions, whose callers embed the conditions in their own statements
    and run them without parameters."""

    def param(name, type_=None):
        return bindparam(name, params[name], type_=type_)

    return param


def client_conditions(criteria, *, today=None, store_id=None):
    """WHERE conditions on Client (and subqueries) for these criteria. `store_id`
    restricts to one store's clients (staff see their store's only)."""
    shape, params = _shape_and_params(criteria, today=today, store_id=store_id)
    return _build_conditions(shape, _bound(params))


def ids_query(criteria, *, today=None, store_id=None):
    """SELECT clients.id of the selection, in id order (the order recipients are frozen)."""
    where = client_conditions(criteria, today=today, store_id=store_id)
    return select(Client.id).where(true(), *where).order_by(Client.id)


@dataclass(frozen=True)
class Count:
    found: int
    reachable: int
    excluded: dict  # reason -> number, in EXCLUSIONS order

    @property
    def excluded_total(self):
        return sum(self.excluded.values())


@lru_cache(maxsize=64)
def _count_statements(s):
    """Two statements. The first, one pass over the selection: the clients found, per
    reason a client gets no marketing SMS (the first that applies, as
    eligibility.reason_case reads it) and those who can receive one. The second, the
    reachable clients whose number is in shared_numbers (kept by triggers: the numbers
    two clients or more hold) and how many numbers they have: every other reachable
    client has a number of their own. Grouping every reachable number to find the
    duplicates hashed 85,000 numbers for 20 of them (issue 15); this reads the few
    shared numbers from their own table."""
    conditions = eligibility.conditions(eligibility.MARKETING)
    ok = eligibility.reachable(eligibility.MARKETING)
    where = _build_conditions(s, _unbound)
    # A condition that is NULL does not apply: the next one is tried (as CASE does).
    per_reason = [
        func.count().filter(and_(cond, *(earlier.is_not(True) for _, earlier in conditions[:i])))
        for i, (_reason, cond) in enumerate(conditions)
    ]
    clients = eligibility.join_optouts(
        select(func.count(), func.count().filter(ok), *per_reason).select_from(Client)
    ).where(true(), *where)
    shared = eligibility.join_optouts(
        select(func.count(), func.count(Client.sms_number.distinct()))
        .select_from(SharedNumber)
        .join(Client, Client.sms_number == SharedNumber.phone)
    ).where(ok, *where)
    return clients, shared


def count(criteria, session, *, today=None, store_id=None):
    """The live count: clients found, reachable by a marketing SMS, and why the others
    are not."""
    shape, params = _shape_and_params(criteria, today=today, store_id=store_id)
    clients, shared = _count_statements(shape)
    found, ok_n, *per_reason = session.execute(clients, params).one()
    shared_n, shared_numbers = session.execute(shared, params).one()
    excluded = dict(zip(eligibility.REASONS, per_reason, strict=True))
    excluded[eligibility.DUPLICATE] = shared_n - shared_numbers
    return Count(found=found, reachable=ok_n - excluded[eligibility.DUPLICATE], excluded=excluded)
