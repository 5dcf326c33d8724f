"""The import on PostgreSQL: a batch goes into a temporary staging table by COPY, then
a few set-based statements do what upsert.py does row by row on SQLite.

The streaming reader parses the cells (the field rules of fields.py, once), resolves
the store codes and refuses duplicates; what needs the stored rows is SQL:

1. one DELETE … RETURNING takes out of the staging table, with their reason, the rows
   the stored data refuses (another store's card, no store for a new card, an unknown
   client, a « N° » another card holds);
2. for clients, one statement changes the consent of existing clients, with its proof,
   never making reachable again a client who answered STOP (those rows get a warning);
3. one INSERT … ON CONFLICT (external_id) DO UPDATE … WHERE (the row changed) writes
   the rest, new rows with the consent proof they come with.

An unmapped column changes nothing, an empty « N° client » or « Date de création »
never erases the stored one, and a row equal to the stored one is not written, so a
second import of the same file counts every row unchanged.
"""

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, text
from sqlalchemy.dialects import postgresql

from ...extensions import db
from ...models import Client, Purchase, RepairTicket, utcnow
from ..client_fields import city_key
from ..result_figures import any_kept, refold, touch_select
from .consent import AFTER_STOP
from .fields import Problem
from .upsert import (
    CLIENT_COLUMNS,
    REPAIR_COLUMNS,
    Model,
    Outcome,
    Row,
    Scope,
    phone_fields,
    search_name,
)

if TYPE_CHECKING:
    import psycopg

    from .fastpath import FastPath  # fastpath reads a Plan

# The session's own psycopg cursor: COPY, and statements in the batch's transaction.
Cursor: TypeAlias = "psycopg.Cursor[Any]"

MODELS: dict[str, Model] = {"clients": Client, "purchases": Purchase, "repairs": RepairTicket}
# Columns the staging table carries besides the parsed fields.
_LINE = "line"
# The client columns each derived column is computed from.
DERIVED = {
    ("sms_number", "phone_digits"): ("tel1", "tel2"),
    ("search_name",): ("last_name", "first_name"),
}
_DIALECT = postgresql.dialect()


def session_cursor() -> Cursor:
    """A cursor of the session's connection (PostgreSQL's: psycopg), in its transaction."""
    connection = db.session.connection().connection.dbapi_connection
    return cast("psycopg.Connection[Any]", connection).cursor()


def _pg_type(model: Model, name: str) -> str:
    return model.__table__.c[name].type.compile(dialect=_DIALECT)


class Plan:
    """What one run's mapping writes: the staging table's columns and the statements."""

    def __init__(self, kind: str, fields: Collection[str]) -> None:
        self.kind, self.model = kind, MODELS[kind]
        self.fields = set(fields)  # the mapped fields (the same for every row of the run)
        self.table = self.model.__tablename__
        columns: dict[str, str] = {"external_id": "text", "store_id": "integer"}
        if kind == "clients":
            self.written = [name for name in CLIENT_COLUMNS if name in self.fields]
            for name in self.written:
                columns[name] = _pg_type(Client, name)
            for names, sources in DERIVED.items():
                if self.fields & set(sources):
                    for name in names:
                        columns[name] = _pg_type(Client, name)
            if "birthday" in self.fields:
                columns["birthday_md"] = "integer"
            if "city" in self.fields:
                columns["city_key"] = _pg_type(Client, "city_key")
            for name in ("sms_consent", "sms_refuses_all"):
                if name in self.fields:
                    columns[name] = _pg_type(Client, name)
        else:
            columns["client"] = "text"
            if kind == "purchases":
                self.written = [n for n in ("date", "amount", "ticket_number") if n in fields]
                if "brand" in self.fields:
                    columns["brand"] = "text"
            else:
                self.written = [name for name in REPAIR_COLUMNS if name in self.fields]
            for name in self.written:
                columns[name] = _pg_type(self.model, name)
        self.columns = columns
        self.names = list(columns)
        # The derived pairs whose other half is not in the file: an existing card's
        # stored value completes them (fix-up after the COPY).
        self.partial = [
            (names, sources)
            for names, sources in DERIVED.items()
            if kind == "clients" and 0 < len(self.fields & set(sources)) < len(sources)
        ]

    # -- the streaming side -------------------------------------------------------

    def derive(self, row: Row) -> Row:
        """Keep on `row` its staging values but the store (resolved later): called as
        soon as the row is parsed, while its phone numbers are in classify's cache."""
        if row.errors:
            return row
        values = row.values
        out: dict[str, Any] = {}
        if self.kind == "clients":
            for name in self.written:
                out[name] = values[name]
            if "tel1" in self.fields or "tel2" in self.fields:
                out |= phone_fields(values.get("tel1", ""), values.get("tel2", ""))
            if "last_name" in self.fields or "first_name" in self.fields:
                out["search_name"] = search_name(
                    values.get("last_name", ""), values.get("first_name", "")
                )
            if "birthday" in self.fields:
                birthday = values["birthday"]
                out["birthday_md"] = birthday.month * 100 + birthday.day if birthday else None
            if "city" in self.fields:
                out["city_key"] = city_key(values["city"])
            for name in ("sms_consent", "sms_refuses_all"):
                if name in self.fields:
                    out[name] = values.get(name)
        else:
            out["client"] = values["client"]
            if "brand" in self.columns:
                out["brand"] = values.get("brand") or ""
            for name in self.written:
                out[name] = values[name]
        row.staged = [out[name] for name in self.names[2:]]
        return row

    def values(self, row: Row) -> list[Any]:
        """The staging row of a parsed, accepted row (its line first)."""
        assert row.staged is not None  # derive() kept them: write() stages no other row here
        return [row.line, row.external_id, row.columns.get("store_id"), *row.staged]

    # -- the database side --------------------------------------------------------

    def create(self, cursor: Cursor) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in self.columns.items())
        cursor.execute(
            f"CREATE TEMP TABLE import_stage ({_LINE} integer PRIMARY KEY, {columns}) "
            "ON COMMIT DROP"
        )

    def copy(self, cursor: Cursor, staged: Iterable[Sequence[Any]]) -> None:
        names = ", ".join([_LINE, *self.names])
        with cursor.copy(f"COPY import_stage ({names}) FROM STDIN") as copy:
            for values in staged:
                copy.write_row(values)

    def complete_derived(self, cursor: Cursor) -> None:
        """A file with Tél. 1 but no Tél. 2 (or Nom without Prénom): the derived columns
        of an existing card also read its stored other half."""
        for names, sources in self.partial:
            missing = [name for name in sources if name not in self.fields]
            cursor.execute(
                f"SELECT s.{_LINE}, {', '.join(f'c.{n}' for n in sources)}, "
                f"{', '.join(f's.{n}' for n in sources if n in self.fields)} "
                "FROM import_stage s JOIN clients c ON c.external_id = s.external_id "
                f"WHERE {' OR '.join(f'c.{n} <> %s' for n in missing)}",
                [""] * len(missing),
            )
            updates = []
            for record in cursor.fetchall():
                line = record[0]
                stored = dict(zip(sources, record[1 : 1 + len(sources)], strict=True))
                given = [n for n in sources if n in self.fields]
                stored |= dict(zip(given, record[1 + len(sources) :], strict=True))
                derived: dict[str, str | None]
                if names == ("search_name",):
                    last, first = stored["last_name"], stored["first_name"]
                    derived = {"search_name": search_name(last, first)}
                else:
                    derived = phone_fields(stored["tel1"], stored["tel2"])
                updates.append([*(derived[name] for name in names), line])
            if updates:
                sets = ", ".join(f"{name} = %s" for name in names)
                cursor.executemany(f"UPDATE import_stage SET {sets} WHERE {_LINE} = %s", updates)

    def refuse(self, cursor: Cursor, scope: Scope) -> list[tuple[int, str, str | None, str]]:
        """Take out the rows the stored data refuses: [(line, problem, value)]."""
        table, kind = self.table, self.kind
        cases = [
            "WHEN %(scope)s::integer IS NOT NULL AND c.store_id <> %(scope)s THEN 'owner'",
            "WHEN c.id IS NULL AND s.store_id IS NULL THEN 'no_store'",
        ]
        joins = f"LEFT JOIN {table} c ON c.external_id = s.external_id"
        if kind != "clients":
            joins += " LEFT JOIN clients k ON k.external_id = s.client"
            cases += [
                "WHEN k.id IS NULL THEN 'client_unknown'",
                "WHEN %(scope)s::integer IS NOT NULL AND k.store_id <> %(scope)s "
                "THEN 'client_store'",
            ]
        number = "NULL::text"
        if kind == "clients":
            stored = "COALESCE(c.number, left(s.external_id, 20))"
            number = (
                f"CASE WHEN s.number <> '' THEN s.number ELSE {stored} END"
                if "number" in self.fields
                else stored
            )
        elif kind == "repairs":
            number = "s.number"
        taken = "false"
        if kind != "purchases":
            taken = (
                f"EXISTS (SELECT 1 FROM {table} o WHERE o.number = numbered.number "
                "AND o.external_id IS DISTINCT FROM numbered.external_id)"
            )
        cursor.execute(
            f"""
            WITH checked AS (
                SELECT s.{_LINE} AS line, s.external_id, {number} AS number,
                       CASE {" ".join(cases)} END AS problem
                FROM import_stage s {joins}
            ), numbered AS (
                SELECT checked.*,
                       row_number() OVER (PARTITION BY problem IS NULL, number ORDER BY line)
                           AS nth
                FROM checked
            ), refused AS (
                SELECT line, number, COALESCE(problem, 'number') AS problem FROM numbered
                WHERE problem IS NOT NULL OR (number IS NOT NULL AND number <> '' AND (
                    nth > 1 OR {taken}))
            )
            DELETE FROM import_stage s USING refused r WHERE s.{_LINE} = r.line
            RETURNING r.line, r.problem, r.number, {"s.client" if kind != "clients" else "''"}
            """,
            {"scope": scope.store_id},
        )
        return cursor.fetchall()

    def consent(self, cursor: Cursor, scope: Scope) -> tuple[set[int], list[tuple[int, str]]]:
        """Existing clients' consent from the file, with its proof; a STOP is kept.
        Returns (ids changed, lines warned)."""
        marketing = "s.sms_consent" if "sms_consent" in self.fields else "NULL::text"
        refuses = "s.sms_refuses_all" if "sms_refuses_all" in self.fields else "NULL::boolean"
        if marketing.startswith("NULL") and refuses.startswith("NULL"):
            return set(), []
        cursor.execute(
            f"""
            WITH wanted AS (
                SELECT c.id, c.store_id, s.{_LINE} AS line,
                       c.sms_consent AS m_before, c.sms_refuses_all AS r_before,
                       {marketing} AS m, {refuses} AS r,
                       (c.sms_consent = 'refused' OR c.sms_refuses_all) AND (
                           SELECT k.how FROM consent_changes k WHERE k.client_id = c.id
                           ORDER BY k.id DESC LIMIT 1) = 'stop' AS stopped
                FROM import_stage s JOIN clients c ON c.external_id = s.external_id
                WHERE ({marketing} IS NOT NULL AND {marketing} <> c.sms_consent)
                   OR ({refuses} IS NOT NULL AND {refuses} <> c.sms_refuses_all)
            ), decided AS (
                SELECT wanted.*,
                       stopped AND m = 'accepted' AND m_before = 'refused' AS kept_m,
                       stopped AND r IS FALSE AND r_before AS kept_r
                FROM wanted
            ), after AS (
                SELECT decided.*,
                       CASE WHEN kept_m OR m IS NULL THEN m_before ELSE m END AS m_after,
                       CASE WHEN kept_r OR r IS NULL THEN r_before ELSE r END AS r_after
                FROM decided
            ), changed AS (
                UPDATE clients t SET sms_consent = a.m_after, sms_refuses_all = a.r_after,
                                     updated_at = %(now)s
                FROM after a
                WHERE t.id = a.id AND (a.m_after, a.r_after) <> (a.m_before, a.r_before)
                RETURNING t.id
            ), proofs AS (
                INSERT INTO consent_changes (client_id, created_at, user_id, store_id, how,
                    marketing_before, marketing_after, refuses_all_before,
                    refuses_all_after, note)
                SELECT id, %(now)s, %(user)s, store_id, %(how)s, m_before, m_after,
                       r_before, r_after, %(note)s
                FROM after WHERE (m_after, r_after) <> (m_before, r_before)
            )
            SELECT id, line, kept_m, kept_r, (m_after, r_after) <> (m_before, r_before)
            FROM after
            """,
            {"now": utcnow(), "user": scope.user_id, "how": scope.how, "note": scope.note[:200]},
        )
        changed: set[int] = set()
        warned: list[tuple[int, str]] = []
        for id_, line, kept_m, kept_r, did in cursor.fetchall():
            if did:
                changed.add(id_)
            for kept, name in ((kept_m, "sms_consent"), (kept_r, "sms_refuses_all")):
                if kept:
                    warned.append((line, name))
        return changed, warned

    def brands(self, cursor: Cursor) -> None:
        if "brand" in self.columns:
            cursor.execute(
                "INSERT INTO brands (name) SELECT DISTINCT brand FROM import_stage "
                "WHERE brand <> '' ON CONFLICT (name) DO NOTHING"
            )

    def upsert(self, cursor: Cursor, scope: Scope) -> tuple[int, set[int]]:
        """The one INSERT … ON CONFLICT … WHERE changed. Returns (created, updated ids)."""
        model, table = self.model, self.table
        today, now = date.today(), utcnow()
        params = {"today": today, "now": now}
        values = {
            "external_id": "s.external_id",
            "store_id": "COALESCE(s.store_id, c.store_id)",
        }
        written = ["store_id", *self.written]
        if self.kind == "clients":
            stored_number = "COALESCE(c.number, left(s.external_id, 20))"
            values["number"] = stored_number
            values["created_on"] = "COALESCE(c.created_on, %(today)s)"
            for name in self.written:
                values[name] = f"s.{name}"
            if "number" in self.fields:
                values["number"] = (
                    f"CASE WHEN s.number <> '' THEN s.number ELSE {stored_number} END"
                )
            if "created_on" in self.fields:
                values["created_on"] = "COALESCE(s.created_on, c.created_on, %(today)s)"
            derived = [
                name
                for name in ("sms_number", "phone_digits", "search_name", "birthday_md", "city_key")
                if name in self.columns
            ]
            for name in derived:
                values[name] = f"s.{name}"
            written += derived
            # A new client's consent comes with the row; an existing one's went above.
            values["sms_consent"] = (
                "COALESCE(s.sms_consent, 'unknown')"
                if "sms_consent" in self.fields
                else "'unknown'"
            )
            values["sms_refuses_all"] = (
                "COALESCE(s.sms_refuses_all, false)"
                if "sms_refuses_all" in self.fields
                else "false"
            )
            values["created_at"] = values["updated_at"] = "%(now)s"
        else:
            values["client_id"] = "k.id"
            written.append("client_id")
            for name in self.written:
                values[name] = f"s.{name}"
            if self.kind == "purchases" and "brand" in self.columns:
                values["brand_id"] = "b.id"
                written.append("brand_id")
            if self.kind == "repairs":
                values["deposit"] = (
                    "COALESCE(s.deposit, c.deposit, 0)"
                    if ("deposit" in self.fields)
                    else "COALESCE(c.deposit, 0)"
                )
                values["received_on"] = (
                    "COALESCE(s.received_on, c.received_on, %(today)s)"
                    if "received_on" in self.fields
                    else "COALESCE(c.received_on, %(today)s)"
                )
        # Every other column gets its default, as an INSERT through the model would.
        for column in model.__table__.columns:
            if column.name in values or column.primary_key or column.default is None:
                continue
            default = column.default.arg
            params[f"d_{column.name}"] = default(None) if column.default.is_callable else default
            values[column.name] = f"%(d_{column.name})s"
        joins = f"LEFT JOIN {table} c ON c.external_id = s.external_id"
        if self.kind != "clients":
            joins += " JOIN clients k ON k.external_id = s.client"
            if "brand_id" in values:
                joins += " LEFT JOIN brands b ON b.name = s.brand"
        sets = [f"{name} = excluded.{name}" for name in written]
        if self.kind == "clients":
            sets.append("updated_at = excluded.updated_at")
        compared = ", ".join(f"t.{name}" for name in written)
        incoming = ", ".join(f"excluded.{name}" for name in written)
        proofs = ""
        if self.kind == "clients":
            proofs = """, proofs AS (
                INSERT INTO consent_changes (client_id, created_at, user_id, store_id, how,
                    marketing_before, marketing_after, refuses_all_before,
                    refuses_all_after, note)
                SELECT id, %(now)s, %(user)s, store_id, %(how)s, 'unknown', sms_consent,
                       false, sms_refuses_all, %(note)s
                FROM written WHERE created AND (sms_consent <> 'unknown' OR sms_refuses_all)
            )"""
            params |= {"user": scope.user_id, "how": scope.how, "note": scope.note[:200]}
        returning = "t.id, t.xmax = 0 AS created"
        if self.kind == "clients":
            returning += ", t.store_id, t.sms_consent, t.sms_refuses_all"
        cursor.execute(
            f"""
            WITH written AS (
                INSERT INTO {table} AS t ({", ".join(values)})
                SELECT {", ".join(values.values())}
                FROM import_stage s {joins}
                ORDER BY s.{_LINE}
                ON CONFLICT (external_id) DO UPDATE SET {", ".join(sets)}
                WHERE ({compared}) IS DISTINCT FROM ({incoming})
                RETURNING {returning}
            ){proofs}
            SELECT count(*) FILTER (WHERE created),
                   COALESCE(array_agg(id) FILTER (WHERE NOT created), '{{}}')
            FROM written
            """,
            params,
        )
        counts = cursor.fetchone()
        assert counts is not None  # an aggregate: always one row
        created, updated = counts
        return created, set(updated)


def _touch_results(plan: Plan) -> bool:
    """Before the upsert: the buyers whose kept « Résultats » the batch changes, marked
    to be measured again once it is written (result_figures): those of a sale in a
    campaign's window, as it was (a changed row's old client and date) and as it will
    be; a client moving to another store. False when none."""
    if plan.kind == "repairs" or not any_kept():
        return False
    if plan.kind == "clients":
        # A client moved to another store: a chain-wide campaign's « magasin d'envoi »
        # is each client's own, their figures are measured again.
        moved = db.session.execute(
            text(
                "INSERT INTO result_pairs (campaign_id, client_id) "
                "SELECT DISTINCT w.campaign_id, c.id FROM import_stage s "
                "JOIN clients c ON c.external_id = s.external_id "
                "JOIN messages m ON m.client_id = c.id "
                "JOIN result_windows w ON w.campaign_id = m.campaign_id AND w.store_id IS NULL "
                "WHERE s.store_id <> c.store_id ORDER BY 1, 2 ON CONFLICT DO NOTHING"
            )
        )
        # An INSERT's result is a CursorResult: Session.execute is only typed Result.
        return cast(CursorResult, moved).rowcount > 0
    date = "COALESCE(s.date, c.date)" if "date" in plan.written else "c.date"
    stage = "import_stage s LEFT JOIN purchases c ON c.external_id = s.external_id"
    marked = touch_select(
        f"SELECT k.id AS client_id, {date} AS date FROM {stage} "
        "JOIN clients k ON k.external_id = s.client "
        "UNION ALL SELECT c.client_id, c.date FROM import_stage s "
        "JOIN purchases c ON c.external_id = s.external_id"
    )
    return marked > 0


def no_jit(cursor: Cursor) -> None:
    """The batch's statements without JIT: their estimated cost (subplans over 10,000
    rows) passes jit_above_cost, and compiling them took seconds (3.4 s for the consent
    statement of a 10,000-row re-import) where running them takes milliseconds. And a
    smaller sample for ANALYZE import_stage: the plans only need its size and rough
    distributions, and sampling all of its 10,000 rows cost as much as the COPY."""
    cursor.execute("SET LOCAL jit = off; SET LOCAL default_statistics_target = 10")


def refusal(problem: str, number: str | None, client: str) -> Problem:
    """(field, reason: a lazy string) of a row SQL refused."""
    if problem == "owner":
        return "external_id", _l("Cette fiche appartient à un autre magasin.")
    if problem == "no_store":
        return "store", _l("Magasin manquant : indiquez son code (ex. 001).")
    if problem == "client_unknown":
        return "client", _l(
            "Client inconnu « %(client)s » : importez d'abord ses données client.", client=client
        )
    if problem == "client_store":
        return "client", _l("Ce client appartient à un autre magasin.")
    return "number", _l("N° « %(number)s » déjà utilisé par une autre fiche.", number=number)


def write(plan: Plan, rows: Sequence[Row], scope: Scope, fast: "FastPath | None" = None) -> Outcome:
    """Write the accepted `rows` (Row objects, store resolved, no duplicates) of one
    batch. Returns an Outcome; rows refused here get their error. `fast`: the batch's
    FastPath (fastpath.py), which stages the rows Python did not read (no `staged`)."""
    outcome = Outcome()
    by_line = {row.line: row for row in rows}
    cursor = session_cursor()
    try:
        no_jit(cursor)
        plan.create(cursor)
        plan.copy(cursor, (plan.values(row) for row in rows if row.staged is not None))
        if fast is not None:
            fast.stage(
                cursor,
                (
                    (row.line, row.external_id, row.columns.get("store_id"))
                    for row in rows
                    if row.staged is None
                ),
            )
        cursor.execute("ANALYZE import_stage")
        if plan.partial:
            plan.complete_derived(cursor)
        for line, problem, number, client in plan.refuse(cursor, scope):
            row = by_line.pop(line)
            row.errors.append(refusal(problem, number, client))
            outcome.rejected.append(row)
        changed: set[int] = set()
        if plan.kind == "clients":
            changed, kept = plan.consent(cursor, scope)
            for line, name in kept:
                by_line[line].warnings.append((name, AFTER_STOP))
        plan.brands(cursor)
        touched = _touch_results(plan)
        created, updated = plan.upsert(cursor, scope)
        if touched:
            refold()
        cursor.execute("DROP TABLE import_stage")
    finally:
        cursor.close()
    outcome.created = created
    outcome.updated = len(updated | changed)
    outcome.unchanged = len(by_line) - created - outcome.updated
    outcome.warned.extend(row for row in by_line.values() if row.warnings)
    return outcome
