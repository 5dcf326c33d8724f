"""numbers shared by two clients or more (shared_numbers), kept by triggers; the SMS counted
by the marketing pressure indexed by day (ix_messages_counted_created)

The live count of a selection grouped every reachable client's number to count the
duplicates: 85,000 numbers hashed on each change of a criterion, for the 20 that two
clients share (issue 15). The numbers held by two clients or more are now kept in
shared_numbers by triggers on clients, in the transaction of every change of a card,
whatever the code that writes (PostgreSQL: one statement trigger per change reading its
transition tables, the count of each number taken under a lock per number bucket so
that two transactions giving one number to two clients cannot both miss the other;
SQLite: row triggers, one writer). The pressure cap read every message ever sent (a
sequential scan): the SMS it counts are now indexed by their day.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 09:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

COUNTED = "state IN ('submitting', 'submitted', 'delivered')"

PG_FUNCTIONS = """
CREATE FUNCTION shared_numbers_recount(numbers text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(numbers) = 0 THEN
    RETURN;
  END IF;
  -- One lock per bucket of numbers, taken in order: a transaction giving one of these
  -- numbers to another client waits for this one, and then counts it.
  PERFORM pg_advisory_xact_lock(27027, bucket)
  FROM (SELECT DISTINCT abs(hashtext(n)) % 64 AS bucket FROM unnest(numbers) AS n
        ORDER BY 1) AS buckets;
  DELETE FROM shared_numbers WHERE phone = ANY (numbers);
  INSERT INTO shared_numbers (phone)
  SELECT sms_number FROM clients WHERE sms_number = ANY (numbers)
  GROUP BY sms_number HAVING count(*) > 1;
END $$;

CREATE FUNCTION shared_numbers_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM shared_numbers_recount(ARRAY(
    SELECT DISTINCT sms_number FROM new_rows WHERE sms_number <> ''));
  RETURN NULL;
END $$;

CREATE FUNCTION shared_numbers_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM shared_numbers_recount(ARRAY(
    SELECT DISTINCT o.sms_number FROM old_rows AS o
    JOIN shared_numbers AS s ON s.phone = o.sms_number));
  RETURN NULL;
END $$;

CREATE FUNCTION shared_numbers_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM shared_numbers_recount(ARRAY(
    SELECT DISTINCT number FROM (
      SELECT o.sms_number AS old_number, n.sms_number AS new_number
      FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
      WHERE o.sms_number IS DISTINCT FROM n.sms_number) AS changed,
    LATERAL (VALUES (old_number), (new_number)) AS numbers (number)
    WHERE number <> ''));
  RETURN NULL;
END $$;
"""

PG_TRIGGERS = [
    "CREATE TRIGGER clients_shared_numbers_inserted AFTER INSERT ON clients "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION shared_numbers_inserted()",
    "CREATE TRIGGER clients_shared_numbers_deleted AFTER DELETE ON clients "
    "REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION shared_numbers_deleted()",
    "CREATE TRIGGER clients_shared_numbers_updated AFTER UPDATE ON clients "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION shared_numbers_updated()",
]

_SQLITE_ADD = """
  INSERT OR IGNORE INTO shared_numbers (phone) SELECT NEW.sms_number
    WHERE NEW.sms_number <> ''
      AND (SELECT count(*) FROM clients WHERE sms_number = NEW.sms_number) > 1;"""
_SQLITE_REMOVE = """
  DELETE FROM shared_numbers WHERE phone = OLD.sms_number
    AND (SELECT count(*) FROM clients WHERE sms_number = OLD.sms_number) < 2;"""

SQLITE_TRIGGERS = [
    "CREATE TRIGGER clients_shared_numbers_inserted AFTER INSERT ON clients "
    f"WHEN NEW.sms_number <> '' BEGIN{_SQLITE_ADD}\nEND",
    "CREATE TRIGGER clients_shared_numbers_deleted AFTER DELETE ON clients "
    f"WHEN OLD.sms_number <> '' BEGIN{_SQLITE_REMOVE}\nEND",
    "CREATE TRIGGER clients_shared_numbers_updated AFTER UPDATE OF sms_number ON clients "
    f"WHEN OLD.sms_number IS NOT NEW.sms_number BEGIN{_SQLITE_REMOVE}{_SQLITE_ADD}\nEND",
]
NAMES = ("inserted", "deleted", "updated")


def upgrade():
    op.create_table("shared_numbers", sa.Column("phone", sa.String(length=20), primary_key=True))
    op.execute(
        "INSERT INTO shared_numbers (phone) SELECT sms_number FROM clients "
        "WHERE sms_number <> '' GROUP BY sms_number HAVING count(*) > 1"
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTIONS)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.create_index("ix_messages_counted_created", "messages",
                    ["created_at", "client_id", "campaign_id"],
                    postgresql_where=sa.text(COUNTED), sqlite_where=sa.text(COUNTED))  # fmt: skip


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_messages_counted_created", table_name="messages")
    for name in NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS clients_shared_numbers_{name}"
                   + (" ON clients" if postgresql else ""))  # fmt: skip
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS shared_numbers_{name}()")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS shared_numbers_recount(text[])")
    op.drop_table("shared_numbers")
