"""a report's counts kept per campaign by triggers (campaign_counts)

Lists of campaigns and reports counted every campaign's messages on each view (12
correlated counts per row); they now read a few rows per campaign. The triggers keep the
counts in the transaction of every change of messages and draft_recipients, whatever
the code that writes (services, bulk UPDATEs, the sweep): PostgreSQL with one statement
trigger per change, reading its transition tables (one aggregate per statement, not per
row), SQLite with row triggers.

Revision ID: 0015
Revises: 0017
Create Date: 2026-12-06 22:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLES = ("messages", "draft_recipients")

# PostgreSQL: each statement appends one row per (campaign, state) it changed; nothing is
# updated in place, so concurrent writers never wait on a counter row.
PG_FUNCTIONS = """
CREATE FUNCTION campaign_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO campaign_counts (campaign_id, state, messages, parts)
  SELECT campaign_id, state, count(*), coalesce(sum(parts), 0)
  FROM new_rows GROUP BY campaign_id, state;
  RETURN NULL;
END $$;

CREATE FUNCTION campaign_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO campaign_counts (campaign_id, state, messages, parts)
  SELECT campaign_id, state, -count(*), -coalesce(sum(parts), 0)
  FROM old_rows
  WHERE campaign_id IN (SELECT id FROM campaigns)  -- rows deleted after their campaign
  GROUP BY campaign_id, state;
  RETURN NULL;
END $$;

CREATE FUNCTION campaign_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO campaign_counts (campaign_id, state, messages, parts)
  SELECT campaign_id, state, sum(n), sum(p)
  FROM (
    SELECT campaign_id, state, 1 AS n, coalesce(parts, 0) AS p FROM new_rows
    UNION ALL
    SELECT campaign_id, state, -1, -coalesce(parts, 0) FROM old_rows
  ) AS changes
  GROUP BY campaign_id, state
  HAVING sum(n) <> 0 OR sum(p) <> 0;
  RETURN NULL;
END $$;

CREATE FUNCTION campaign_counts_campaign_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM campaign_counts WHERE campaign_id IN (SELECT id FROM old_rows);
  RETURN NULL;
END $$;
"""


def _pg_triggers(table):
    return [
        f"CREATE TRIGGER {table}_counts_inserted AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION campaign_counts_inserted()",
        f"CREATE TRIGGER {table}_counts_deleted AFTER DELETE ON {table} "
        "REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION campaign_counts_deleted()",
        f"CREATE TRIGGER {table}_counts_updated AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION campaign_counts_updated()",
    ]


# SQLite: one writer at a time, so one row per (campaign, state), updated in place.
def _sqlite_add(row, sign):
    return f"""
  INSERT INTO campaign_counts (campaign_id, state, messages, parts)
    SELECT {row}.campaign_id, {row}.state, 0, 0
    WHERE NOT EXISTS (SELECT 1 FROM campaign_counts
                      WHERE campaign_id = {row}.campaign_id AND state = {row}.state);
  UPDATE campaign_counts
    SET messages = messages {sign} 1, parts = parts {sign} coalesce({row}.parts, 0)
    WHERE campaign_id = {row}.campaign_id AND state = {row}.state;"""


def _sqlite_triggers(table):
    return [
        f"CREATE TRIGGER {table}_counts_inserted AFTER INSERT ON {table} BEGIN"
        f"{_sqlite_add('NEW', '+')}\nEND",
        # Rows deleted after their campaign (a list without foreign keys) count for nothing.
        f"CREATE TRIGGER {table}_counts_deleted AFTER DELETE ON {table} "
        "WHEN EXISTS (SELECT 1 FROM campaigns WHERE id = OLD.campaign_id) BEGIN"
        f"{_sqlite_add('OLD', '-')}\nEND",
        f"CREATE TRIGGER {table}_counts_updated AFTER UPDATE OF state, parts ON {table} "
        "WHEN OLD.state IS NOT NEW.state OR OLD.parts IS NOT NEW.parts BEGIN"
        f"{_sqlite_add('OLD', '-')}{_sqlite_add('NEW', '+')}\nEND",
    ]


def upgrade():
    op.create_table(
        "campaign_counts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("parts", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_campaign_counts_campaign_state", "campaign_counts", ["campaign_id", "state"]
    )
    for table in TABLES:
        op.execute(
            "INSERT INTO campaign_counts (campaign_id, state, messages, parts) "
            f"SELECT campaign_id, state, count(*), coalesce(sum(parts), 0) FROM {table} "
            "GROUP BY campaign_id, state"
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTIONS)
        for table in TABLES:
            for statement in _pg_triggers(table):
                op.execute(statement)
        op.execute(
            "CREATE TRIGGER campaigns_counts_deleted AFTER DELETE ON campaigns "
            "REFERENCING OLD TABLE AS old_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION campaign_counts_campaign_deleted()"
        )
    else:
        for table in TABLES:
            for statement in _sqlite_triggers(table):
                op.execute(statement)
        op.execute(
            "CREATE TRIGGER campaigns_counts_deleted AFTER DELETE ON campaigns BEGIN "
            "DELETE FROM campaign_counts WHERE campaign_id = OLD.id; END"
        )


def downgrade():
    names = [f"{table}_counts_{what}" for table in TABLES
             for what in ("inserted", "deleted", "updated")]  # fmt: skip
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in names:
        table = name.rsplit("_counts_", 1)[0]
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
    op.execute(
        "DROP TRIGGER IF EXISTS campaigns_counts_deleted" + (" ON campaigns" if postgresql else "")
    )
    if postgresql:
        for function in ("inserted", "deleted", "updated", "campaign_deleted"):
            op.execute(f"DROP FUNCTION IF EXISTS campaign_counts_{function}()")
    op.drop_index("ix_campaign_counts_campaign_state", table_name="campaign_counts")
    op.drop_table("campaign_counts")
