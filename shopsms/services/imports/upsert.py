"""Writing a batch of parsed rows: upsert by the point of sale's external id.

One batch costs a handful of queries whatever its size: the existing rows, the clients
and numbers it refers to, one bulk INSERT of the new rows and one bulk UPDATE of the
changed ones. A row whose values are all equal to the stored ones is not written at
all, so importing the same file twice changes nothing (and counts it as unchanged).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, TypeAlias

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.engine import Row as StoredRow

from ...extensions import db
from ...models import Brand, Client, Purchase, RepairTicket, Store, utcnow
from ...models.base import bulk_insert
from .. import client_fields
from ..client_fields import city_key
from ..result_figures import refold, touch, touch_clients
from .consent import apply_consent, insert_proofs, new_client_consent
from .fields import Problem

Model: TypeAlias = type[Client] | type[Purchase] | type[RepairTicket]
MODELS: dict[str, Model] = {"clients": Client, "purchases": Purchase, "repairs": RepairTicket}
CLIENT_COLUMNS = (
    "number",
    "civility",
    "last_name",
    "first_name",
    "address1",
    "address2",
    "postal_code",
    "city",
    "country",
    "tel1",
    "tel2",
    "email",
    "birthday",
    "created_on",
    "salesperson",
    "email_consent",
    "post_consent",
    "npai",
    "is_prospect",
    "comment",
)
REPAIR_COLUMNS = (
    "number",
    "kind",
    "status",
    "item_description",
    "work_description",
    "client_price",
    "deposit",
    "received_on",
    "returned_on",
    "collected_on",
    "workshop_comment",
)
NEW_DEFAULTS: dict[str, dict[str, Any]] = {
    "clients": {
        "is_prospect": False,
        "civility": "",
        "first_name": "",
        "address1": "",
        "address2": "",
        "postal_code": "",
        "city": "",
        "country": "FR",
        "tel1": "",
        "tel2": "",
        "email": "",
        "birthday": None,
        "birthday_md": None,
        "salesperson": "",
        "sms_consent": "unknown",
        "sms_refuses_all": False,
        "email_consent": False,
        "post_consent": False,
        "npai": False,
        "comment": "",
        "sms_number": None,
    },
    "purchases": {"brand_id": None, "ticket_number": ""},
    "repairs": {
        "kind": "repair",
        "status": "open",
        "item_description": "",
        "work_description": "",
        "interventions": "",
        "workshop_id": None,
        "workshop_price": None,
        "coefficient": None,
        "client_price": None,
        "deposit": Decimal("0"),
        "sent_to_workshop_on": None,
        "returned_on": None,
        "workshop_comment": "",
        "collected_on": None,
        "notified_by": "",
        "notified_at": None,
    },
}


@dataclass(frozen=True)
class Scope:
    """Who writes: a store's import or token writes that store only; head office any."""

    store_id: int | None = None
    how: str = "import"  # recorded as the consent proof's "how"
    user_id: int | None = None
    note: str = ""  # the consent proof's note: which API token wrote it


@dataclass
class Row:
    line: int  # the file's line number, or the item's index in an API batch
    values: dict[str, Any]
    errors: list[Problem] = field(default_factory=list)  # (field, French message)
    raw: object = None  # what came in, for the reject file
    columns: dict[str, Any] = field(default_factory=dict)
    external_id: str = ""
    # (field, message): imported, cell left aside
    warnings: list[Problem] = field(default_factory=list)
    staged: list[Any] | None = None  # its staging-table values (PostgreSQL's import, staging.py)


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Row] = field(default_factory=list)
    warned: list[Row] = field(default_factory=list)  # imported with a cell left aside

    def add(self, other: "Outcome") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected.extend(other.rejected)
        self.warned.extend(other.warned)


class Seen(Protocol):
    """The external ids of a run's earlier batches (job._Seen; a set does too)."""

    def __contains__(self, external_id: str, /) -> bool: ...

    def add(self, external_id: str, /) -> None: ...


# The stored rows a batch refers to, by external id: plain rows, not ORM objects.
Existing: TypeAlias = Mapping[str, StoredRow]


def search_name(last_name: str | None, first_name: str | None) -> str:
    """The accent-free name column that the client search reads."""
    return client_fields.search_name(last_name, first_name)


def phone_fields(tel1: str | None, tel2: str | None) -> dict[str, str | None]:
    """The derived phone columns (sms_number, phone digits…) the clients table has."""
    columns = Client.__table__.columns
    derived = client_fields.phone_fields(tel1, tel2)
    return {key: value for key, value in derived.items() if key in columns}


def screen(
    rows: Iterable[Row], scope: Scope, outcome: Outcome, *, seen: Seen | None = None
) -> list[Row]:
    """The checks that need no stored row: the cells' errors, an external id twice in
    the batch (or, with `seen`, earlier in the run), the store's code. Returns the rows
    still accepted; the others go to `outcome.rejected`."""
    live = [row for row in rows if not row.errors]
    outcome.rejected.extend(row for row in rows if row.errors)
    stores = {code: id_ for id_, code in db.session.execute(select(Store.id, Store.code))}
    codes = {id_: code for code, id_ in stores.items()}
    batch: dict[str, int] = {}
    for row in live:
        row.external_id = row.values["external_id"]
        if row.external_id in batch:
            row.errors.append(
                (
                    "external_id",
                    _l(
                        "Identifiant en double (déjà ligne %(line)s).",
                        line=batch[row.external_id],
                    ),
                )
            )
            continue
        if seen is not None and row.external_id in seen:
            row.errors.append(
                (
                    "external_id",
                    _l("Identifiant en double : déjà présent plus haut dans le fichier."),
                )
            )
            continue
        batch[row.external_id] = row.line
        resolve_store(row, stores, codes, scope)
    if seen is not None:
        for external_id in batch:
            seen.add(external_id)
    return _keep(live, outcome)


def upsert(kind: str, rows: Iterable[Row], scope: Scope, *, seen: Seen | None = None) -> Outcome:
    """`seen`: the external ids of the run's earlier batches (a container with `add`),
    so that a duplicate further down a big file is refused too."""
    outcome = Outcome()
    live = screen(rows, scope, outcome, seen=seen)
    model = MODELS[kind]
    # Plain rows, not ORM objects: a re-import compares every column of every row, and
    # building objects would cost more than the comparison.
    existing = {
        item.external_id: item
        for item in db.session.execute(
            select(*model.__table__.columns).where(
                model.external_id.in_([row.external_id for row in live])
            )
        )
    }
    for row in live:
        old = existing.get(row.external_id)
        if old is not None and scope.store_id is not None and old.store_id != scope.store_id:
            row.errors.append(("external_id", _l("Cette fiche appartient à un autre magasin.")))
        elif old is None and "store_id" not in row.columns:
            row.errors.append(("store", _l("Magasin manquant : indiquez son code (ex. 001).")))
    live = _keep(live, outcome)
    if kind == "clients":
        _client_columns(live, existing)
    else:
        _client_references(live, scope)
        live = _keep(live, outcome)
        if kind == "purchases":
            _purchase_columns(live)
        else:
            _repair_columns(live, existing)
    if kind in ("clients", "repairs"):
        _check_numbers(model, live, existing)
        live = _keep(live, outcome)
    _write(kind, model, live, existing, outcome, scope)
    return outcome


def _keep(rows: list[Row], outcome: Outcome) -> list[Row]:
    outcome.rejected.extend(row for row in rows if row.errors)
    return [row for row in rows if not row.errors]


def resolve_store(
    row: Row, stores: Mapping[str, int], codes: Mapping[int, str], scope: Scope
) -> None:
    code = row.values.get("store") or ""
    if code:
        if code not in stores:
            row.errors.append(("store", _l("Magasin inconnu « %(code)s ».", code=code)))
            return
        store_id = stores[code]
    elif scope.store_id is not None:
        store_id = scope.store_id
    else:
        return  # an update keeps the store; a creation will be refused for want of one
    if scope.store_id is not None and store_id != scope.store_id:
        row.errors.append(
            (
                "store",
                _l(
                    "Vous ne pouvez écrire que pour le magasin %(code)s.",
                    code=codes[scope.store_id],
                ),
            )
        )
        return
    row.columns["store_id"] = store_id


def _client_columns(rows: Iterable[Row], existing: Existing) -> None:
    for row in rows:
        values, old = row.values, existing.get(row.external_id)
        for name in CLIENT_COLUMNS:
            if name in values:
                row.columns[name] = values[name]
        if "birthday" in values:
            birthday = values["birthday"]
            row.columns["birthday_md"] = birthday.month * 100 + birthday.day if birthday else None
        if old is None:
            if not row.columns.get("number"):
                row.columns["number"] = row.external_id[:20]
            if not row.columns.get("created_on"):
                row.columns["created_on"] = date.today()
        else:
            # An empty cell never erases the card's number or its creation date.
            for name in ("number", "created_on"):
                if not row.columns.get(name, True):
                    del row.columns[name]
        if "tel1" in values or "tel2" in values or old is None:
            tel1 = row.columns.get("tel1", old.tel1 if old else "")
            tel2 = row.columns.get("tel2", old.tel2 if old else "")
            # Parsing phones is the costly part of a row: only when they changed.
            if old is None or (tel1, tel2) != (old.tel1, old.tel2):
                row.columns.update(phone_fields(tel1, tel2))
        if "last_name" in values or "first_name" in values or old is None:
            last = row.columns.get("last_name", old.last_name if old else "")
            first = row.columns.get("first_name", old.first_name if old else "")
            if old is None or (last, first) != (old.last_name, old.first_name):
                row.columns["search_name"] = search_name(last, first)
        if "city" in values or old is None:
            city = row.columns.get("city", old.city if old else "")
            if old is None or city != old.city:
                row.columns["city_key"] = city_key(city)


def _client_references(rows: Sequence[Row], scope: Scope) -> None:
    wanted = {row.values["client"] for row in rows}
    found = {
        external_id: (id_, store_id)
        for external_id, id_, store_id in db.session.execute(
            select(Client.external_id, Client.id, Client.store_id).where(
                Client.external_id.in_(wanted)
            )
        )
    }
    for row in rows:
        client_id, store_id = found.get(row.values["client"], (None, None))
        if client_id is None:
            row.errors.append(
                (
                    "client",
                    _l(
                        "Client inconnu « %(client)s » : importez d'abord ses données client.",
                        client=row.values["client"],
                    ),
                )
            )
        elif scope.store_id is not None and store_id != scope.store_id:
            # A store's file or token reaches its own clients only, as its staff do.
            row.errors.append(("client", _l("Ce client appartient à un autre magasin.")))
        else:
            row.columns["client_id"] = client_id


def _purchase_columns(rows: Sequence[Row]) -> None:
    names = {row.values["brand"] for row in rows if row.values.get("brand")}
    brands = dict(
        db.session.execute(select(Brand.name, Brand.id).where(Brand.name.in_(names))).all()
    )
    for name in sorted(names - set(brands)):
        brand = Brand(name=name)
        db.session.add(brand)
        db.session.flush()
        brands[name] = brand.id
    for row in rows:
        values = row.values
        for name in ("date", "amount", "ticket_number"):
            if name in values:
                row.columns[name] = values[name]
        if "brand" in values:
            row.columns["brand_id"] = brands.get(values["brand"])


def _repair_columns(rows: Iterable[Row], existing: Existing) -> None:
    for row in rows:
        for name in REPAIR_COLUMNS:
            if name in row.values and not (name == "deposit" and row.values[name] is None):
                row.columns[name] = row.values[name]
        if existing.get(row.external_id) is None and not row.columns.get("received_on"):
            row.columns["received_on"] = date.today()


def _check_numbers(model: Model, rows: Sequence[Row], existing: Existing) -> None:
    """« N° client » and « N° fiche » are unique: another card's number is refused."""
    numbers = {row.columns["number"] for row in rows if row.columns.get("number")}
    owners: dict[str, str] = dict(
        db.session.execute(
            select(model.number, model.external_id).where(model.number.in_(numbers))
        ).all()
    )
    taken: dict[str, str] = {}
    for row in rows:
        number = row.columns.get("number")
        if not number:
            continue
        owner = owners.get(number)
        if (owner is not None and owner != row.external_id) or number in taken:
            row.errors.append(
                ("number", _l("N° « %(number)s » déjà utilisé par une autre fiche.", number=number))
            )
            continue
        taken[number] = row.external_id


def _write(
    kind: str,
    model: Model,
    rows: Sequence[Row],
    existing: Existing,
    outcome: Outcome,
    scope: Scope,
) -> None:
    new_rows: list[dict[str, Any]] = []
    changes: list[tuple[Row, dict[str, Any]]] = []
    consent: list[Row] = []
    for row in rows:
        old = existing.get(row.external_id)
        if old is None:
            values = NEW_DEFAULTS[kind] | {"external_id": row.external_id} | row.columns
            new_rows.append(values)
            outcome.created += 1
        else:
            diff = {k: v for k, v in row.columns.items() if getattr(old, k) != v}
            if diff:
                changes.append((row, diff | {"id": old.id}))
            if kind == "clients":
                consent.append(row)
    if new_rows:
        proofs: list[dict[str, Any]] = []
        if kind == "clients":
            stamp = utcnow()
            for row, values in zip(
                (row for row in rows if row.external_id not in existing), new_rows, strict=True
            ):
                values.setdefault("created_at", stamp)
                values.setdefault("updated_at", stamp)
                proof = new_client_consent(row, values, scope, stamp)
                if proof:
                    proofs.append(proof)
        bulk_insert(model, new_rows)
        if proofs:
            insert_proofs(proofs)
    changed = {row.external_id for row, _ in changes}
    if changes:
        # Grouped by the set of columns, so each group is one executemany.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for _, values in changes:
            if kind == "clients":
                values["updated_at"] = utcnow()
            groups.setdefault(tuple(sorted(values)), []).append(values)
        for group in groups.values():
            db.session.execute(update(model), group)
    if consent:
        changed |= apply_consent(consent, existing, scope)
    if kind == "purchases":
        _keep_results(new_rows, changes, existing)
    elif kind == "clients":
        moved = [values["id"] for _, values in changes if "store_id" in values]
        if moved:
            # A chain-wide campaign's « magasin d'envoi » is each client's own store.
            touch_clients(moved)
            refold()
    outcome.warned.extend(row for row in rows if row.warnings)
    for row in rows:
        if row.external_id in existing:
            if row.external_id in changed:
                outcome.updated += 1
            else:
                outcome.unchanged += 1


def _keep_results(
    new_rows: Sequence[Mapping[str, Any]],
    changes: Sequence[tuple[Row, Mapping[str, Any]]],
    existing: Existing,
) -> None:
    """The « Résultats » of the campaigns whose window holds one of these sales, as they
    were and as they are, measured again in this transaction (result_figures)."""
    touched = [(values["client_id"], values.get("date")) for values in new_rows]
    for row, diff in changes:
        old = existing[row.external_id]
        touched.append((old.client_id, old.date))
        touched.append((diff.get("client_id", old.client_id), diff.get("date", old.date)))
    if touch(touched):
        refold()
