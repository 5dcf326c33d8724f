"""Client selection for campaigns: criteria (a dataclass) turned into one SQL query.

Every criterion is optional and they all combine (« tous les filtres sont cumulables »).
Purchase criteria share one scope: the period (both bounds optional) and the brand
(« ensemble du catalogue » when none). Within that scope:
- revenue « supérieur ou égal » / « inférieur ou égal » to a value (a client who bought
  nothing in the scope has a revenue of 0, so « inférieur ou égal » includes them);
- number of visits (purchases) at least / at most, the same way;
- with neither, a period or a brand alone means « clients who bought in the period ».
"No visit for X days" looks at every purchase, any store, any brand; a client who never
bought counts once their card is older than X days.

tests/services/selection_oracle.py says the same in Python, for the tests that compare
both.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, case, false, func, literal, not_, or_, select, true
from sqlalchemy.orm import aliased

from .models import Client, OptOut, Purchase

SMS_CHOICES = ("all", "with", "without")  # « Tous » / « Avec » / « Sans »
TRI_CHOICES = ("all", "yes", "no")
COMPARISONS = ("gte", "lte")  # « Sup. ou égal » / « Inf. ou égal »
# Why a found client gets no SMS, in the order they are checked (as services/campaigns).
EXCLUSIONS = ("refuses_all", "no_mobile", "no_consent", "optout", "duplicate")


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


class CriteriaErrors(ValueError):
    def __init__(self, errors):
        self.errors = errors  # field name -> French message
        super().__init__("; ".join(errors.values()))


def _day_month(value):
    """ "25/12" or "25/12/1980" or "1980-12-25" → 1225."""
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
        raise ValueError from None
    return month * 100 + day


def from_form(form):
    """Criteria from the selection form's fields; raises CriteriaErrors saying what to fix."""
    errors, values = {}, {}

    def integer(name, label, minimum=0):
        raw = (form.get(name) or "").strip()
        if not raw:
            return None
        try:
            number = int(raw)
        except ValueError:
            errors[name] = f"{label} : tapez un nombre entier."
            return None
        if number < minimum:
            errors[name] = f"{label} : {minimum} au moins."
            return None
        return number

    def a_date(name, label):
        raw = (form.get(name) or "").strip()
        if not raw:
            return None
        try:
            if "/" in raw:
                day, month, year = (int(x) for x in raw.split("/"))
                return date(year, month, day)
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = f"{label} : date incorrecte (jj/mm/aaaa)."
            return None

    values["created_store_id"] = integer("created_store_id", "Magasin de création", 1)
    values["last_visit_store_id"] = integer(
        "last_visit_store_id", "Magasin de la dernière visite", 1
    )
    values["brand_id"] = integer("brand_id", "Marque", 1)
    values["period_start"] = a_date("period_start", "Période, début")
    values["period_end"] = a_date("period_end", "Période, fin")
    if (
        values["period_start"]
        and values["period_end"]
        and values["period_start"] > values["period_end"]
    ):
        errors["period_end"] = "Période : la fin est avant le début."
    raw = (form.get("revenue") or "").strip().replace(" ", "").replace(",", ".").rstrip("€")
    if raw:
        try:
            values["revenue"] = Decimal(raw).quantize(Decimal("0.01"))
            if values["revenue"] < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors["revenue"] = "Chiffre d'affaires : tapez un montant, par exemple 150 ou 99,90."
    values["visits"] = integer("visits", "Nombre de passages")
    for op in ("revenue_op", "visits_op"):
        values[op] = form.get(op) if form.get(op) in COMPARISONS else "gte"
    values["absent_days"] = integer("absent_days", "Clients qui ne sont pas venus depuis", 1)
    values["city"] = (form.get("city") or "").strip()
    postal = (form.get("postal_code") or "").strip().replace(" ", "").upper()
    if postal and not postal.isalnum():
        errors["postal_code"] = "Code postal : chiffres seulement (département, ou plus)."
    values["postal_code"] = postal
    for name, label in (("birthday_from", "Anniversaire, du"), ("birthday_to", "Anniversaire, au")):
        try:
            values[name] = _day_month(form.get(name) or "")
        except ValueError:
            errors[name] = f"{label} : date incorrecte (jj/mm)."
    one_date = (values.get("birthday_from") is None) != (values.get("birthday_to") is None)
    if one_date and not errors.keys() & {"birthday_from", "birthday_to"}:
        errors["birthday_to"] = "Anniversaire : donnez les deux dates (du … au …)."
    values["name"] = (form.get("name") or "").strip()
    values["sms"] = form.get("sms") if form.get("sms") in SMS_CHOICES else "all"
    for name in ("address_incomplete", "npai"):
        values[name] = form.get(name) if form.get(name) in TRI_CHOICES else "all"
    if errors:
        raise CriteriaErrors(errors)
    return Criteria(**{k: v for k, v in values.items() if v is not None or k in ()})


# --- to SQL --------------------------------------------------------------------------


def _next_prefix(text):
    """The smallest string above every string starting with `text` (a range, not LIKE,
    so the postal code index is used)."""
    return text[:-1] + chr(ord(text[-1]) + 1)


def _purchase_scope(criteria):
    conditions = []
    if criteria.brand_id is not None:
        conditions.append(Purchase.brand_id == criteria.brand_id)
    if criteria.period_start is not None:
        conditions.append(Purchase.date >= criteria.period_start)
    if criteria.period_end is not None:
        conditions.append(Purchase.date <= criteria.period_end)
    return conditions


def _uses_purchase_scope(criteria):
    return (
        criteria.revenue is not None
        or criteria.visits is not None
        or criteria.brand_id is not None
        or criteria.period_start is not None
        or criteria.period_end is not None
    )


def _aggregate_conditions(criteria, *, keep):
    """HAVING conditions on the scope's purchases. keep=True: what a client who bought in
    the scope must satisfy; keep=False: what excludes them (for « inférieur ou égal »)."""
    total, visits = func.sum(Purchase.amount), func.count(Purchase.id)
    out = []
    if criteria.revenue is not None and (criteria.revenue_op == "gte") == keep:
        value = literal(criteria.revenue, Purchase.amount.type)
        out.append(total >= value if keep else total > value)
    if criteria.visits is not None and (criteria.visits_op == "gte") == keep:
        out.append(visits >= criteria.visits if keep else visits > criteria.visits)
    return out


def _simple_conditions(c, client, store_id):
    """The criteria that read the client's own columns, on `client` (Client or an alias)."""
    where = []
    if store_id is not None:
        where.append(client.store_id == store_id)
    if c.created_store_id is not None:
        where.append(client.store_id == c.created_store_id)
    if c.city:
        # SQLite's lower() folds ASCII only: files hold "Mérignac" or "MÉRIGNAC", so
        # compare both ways.
        where.append(or_(func.lower(client.city) == c.city.lower(), client.city == c.city.upper()))
    if c.postal_code:
        where.append(client.postal_code >= c.postal_code)
        where.append(client.postal_code < _next_prefix(c.postal_code))
    if c.birthday_from is not None and c.birthday_to is not None:
        low, high = c.birthday_from, c.birthday_to
        if low <= high:
            where.append(client.birthday_md.between(low, high))
        else:  # from December to January
            where.append(or_(client.birthday_md >= low, client.birthday_md <= high))
    if c.name:
        # The start of the last name, whatever the accents and capitals ("ét" finds
        # "Étchegaray" and "ETCHE"), read from the normalised search_name, which begins
        # with the last name run together: the same on SQLite (whose lower() folds ASCII
        # only) and on PostgreSQL.
        folded = name_key(c.name)
        # A card written before search_name existed (empty) is still found, as before:
        # by its last name in the capitals typed or, for ASCII letters, in any case.
        unfolded = and_(
            client.search_name == "",
            or_(
                func.lower(client.last_name).startswith(c.name.lower(), autoescape=True),
                client.last_name.startswith(c.name.upper(), autoescape=True),
            ),
        )
        if folded:
            where.append(or_(client.search_name.startswith(folded, autoescape=True), unfolded))
        else:
            where.append(false())
    if c.sms == "with":
        where.append(client.sms_consent == "accepted")
    elif c.sms == "without":
        where.append(client.sms_consent != "accepted")
    incomplete = or_(
        func.trim(client.address1) == "",
        func.trim(client.postal_code) == "",
        func.trim(client.city) == "",
    )
    if c.address_incomplete == "yes":
        where.append(incomplete)
    elif c.address_incomplete == "no":
        where.append(not_(incomplete))
    if c.npai == "yes":
        where.append(client.npai.is_(True))
    elif c.npai == "no":
        where.append(client.npai.is_(False))
    return where


def name_key(text):
    """A name as the name search compares it: without accents, capitals, spaces and
    hyphens ("Le Gall" → "LEGALL"), as services.clients.search_name begins."""
    from .services.clients import name_words

    return "".join(name_words(text))


def client_conditions(criteria, *, today=None, store_id=None):
    """WHERE conditions on Client (and subqueries) for these criteria. `store_id`
    restricts to one store's clients (staff see their store's only)."""
    c = criteria
    today = today or date.today()
    where = _simple_conditions(c, Client, store_id)
    if c.last_visit_store_id is not None:
        last = (
            select(Purchase.store_id)
            .where(Purchase.client_id == Client.id)
            .order_by(Purchase.date.desc(), Purchase.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        where.append(last == c.last_visit_store_id)
    if c.absent_days is not None:
        # "Not come for X days": no purchase since; a client who never bought counts
        # only once their card is older than X days (a card made yesterday is no lapsed
        # client).
        since = today - timedelta(days=c.absent_days)
        recent = select(Purchase.id).where(Purchase.client_id == Client.id, Purchase.date > since)
        where.append(~recent.exists())
        bought_in_scope = _uses_purchase_scope(c) and (
            _aggregate_conditions(c, keep=True) or not _aggregate_conditions(c, keep=False)
        )
        if not bought_in_scope:  # else the purchase criteria below already ask a purchase
            ever = select(Purchase.id).where(Purchase.client_id == Client.id)
            where.append(or_(Client.created_on <= since, ever.exists()))
    if _uses_purchase_scope(c):
        scope = _purchase_scope(c)
        keep = _aggregate_conditions(c, keep=True)
        drop = _aggregate_conditions(c, keep=False)
        # The purchases are aggregated for the clients the other criteria keep (joined
        # first, as a hand-written query would), not for the whole file.
        inner = aliased(Client, name="selected_client")
        narrowed = _simple_conditions(c, inner, store_id)

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


def count(criteria, session, *, today=None, store_id=None):
    """The live count: clients found, reachable by a marketing SMS, and why the others
    are not — one query."""
    where = client_conditions(criteria, today=today, store_id=store_id)
    refuses = Client.sms_refuses_all.is_(True)
    no_mobile = Client.sms_number.is_(None)
    no_consent = Client.sms_consent != "accepted"
    opted = OptOut.id.is_not(None)
    before = [refuses, no_mobile, no_consent, opted]

    def first(index):
        earlier = [not_(x) for x in before[:index]]
        return func.coalesce(func.sum(case((and_(*earlier, before[index]), 1), else_=0)), 0)

    ok = and_(*(not_(x) for x in before))
    statement = (
        select(
            func.count(Client.id),
            first(0),
            first(1),
            first(2),
            first(3),
            func.coalesce(func.sum(case((ok, 1), else_=0)), 0),
            func.count(func.distinct(case((ok, Client.sms_number), else_=None))),
        )
        .select_from(Client)
        .outerjoin(OptOut, OptOut.phone == Client.sms_number)
        .where(true(), *where)
    )
    found, refuses_n, no_mobile_n, no_consent_n, opted_n, ok_n, distinct_n = session.execute(
        statement
    ).one()
    excluded = {
        "refuses_all": int(refuses_n),
        "no_mobile": int(no_mobile_n),
        "no_consent": int(no_consent_n),
        "optout": int(opted_n),
        "duplicate": int(ok_n) - int(distinct_n),
    }
    return Count(found=int(found), reachable=int(distinct_n), excluded=excluded)
