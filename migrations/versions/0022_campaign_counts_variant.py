"""A/B texts (issue 21): a report's counts kept per variant too, and « pas de variante B »
written as a share of 0 %

campaign_counts gets a `variant` column ("A", "B" or ""): the triggers of 0015 now group
by (campaign, state, variant), so the report, the « Résultats » page and the split of a
draft read each variant's SMS, sent and delivered from a few rows, never by counting the
messages. Every reader that sums a campaign's states over its rows is unchanged.

campaigns.split_b is the share of the recipients given « Variante B »: 0 means one text.
Campaigns drafted before had 50 with no second text: they get 0.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 01:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLES = ("messages", "draft_recipients")


def _pg_functions(keys):
    """0015's functions, grouping by `keys` (a column list)."""
    return f"""
CREATE OR REPLACE FUNCTION campaign_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO campaign_counts ({keys}, messages, parts)
  SELECT {keys}, count(*), coalesce(sum(parts), 0)
  FROM new_rows GROUP BY {keys};
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION campaign_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO campaign_counts ({keys}, messages, parts)
  SELECT {keys}, -count(*), -coalesce(sum(parts), 0)
  FROM old_rows
  WHERE campaign_id IN (SELECT id FROM campaigns)  -- rows deleted after their campaign
  GROUP BY {keys};
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION campaign_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO campaign_counts ({keys}, messages, parts)
  SELECT {keys}, sum(n), sum(p)
  FROM (
    SELECT {keys}, 1 AS n, coalesce(parts, 0) AS p FROM new_rows
    UNION ALL
    SELECT {keys}, -1, -coalesce(parts, 0) FROM old_rows
  ) AS changes
  GROUP BY {keys}
  HAVING sum(n) <> 0 OR sum(p) <> 0;
  RETURN NULL;
END $$;
"""


def _sqlite_add(row, sign, with_variant):
    variant = f" AND variant = {row}.variant" if with_variant else ""
    columns = "campaign_id, state, variant" if with_variant else "campaign_id, state"
    values = f"{row}.campaign_id, {row}.state, {row}.variant" if with_variant else (
        f"{row}.campaign_id, {row}.state"
    )
    return f"""
  INSERT INTO campaign_counts ({columns}, messages, parts)
    SELECT {values}, 0, 0
    WHERE NOT EXISTS (SELECT 1 FROM campaign_counts
                      WHERE campaign_id = {row}.campaign_id AND state = {row}.state{variant});
  UPDATE campaign_counts
    SET messages = messages {sign} 1, parts = parts {sign} coalesce({row}.parts, 0)
    WHERE campaign_id = {row}.campaign_id AND state = {row}.state{variant};"""


def _sqlite_triggers(table, with_variant):
    of = "state, parts, variant" if with_variant else "state, parts"
    changed = "OLD.state IS NOT NEW.state OR OLD.parts IS NOT NEW.parts"
    if with_variant:
        changed += " OR OLD.variant IS NOT NEW.variant"
    return [
        f"CREATE TRIGGER {table}_counts_inserted AFTER INSERT ON {table} BEGIN"
        f"{_sqlite_add('NEW', '+', with_variant)}\nEND",
        f"CREATE TRIGGER {table}_counts_deleted AFTER DELETE ON {table} "
        "WHEN EXISTS (SELECT 1 FROM campaigns WHERE id = OLD.campaign_id) BEGIN"
        f"{_sqlite_add('OLD', '-', with_variant)}\nEND",
        f"CREATE TRIGGER {table}_counts_updated AFTER UPDATE OF {of} ON {table} "
        f"WHEN {changed} BEGIN"
        f"{_sqlite_add('OLD', '-', with_variant)}{_sqlite_add('NEW', '+', with_variant)}\nEND",
    ]


def _recount(with_variant):
    """The counts of every campaign with a variant, rebuilt from its rows."""
    keys = "campaign_id, state, variant" if with_variant else "campaign_id, state"
    op.execute(
        "DELETE FROM campaign_counts WHERE campaign_id IN ("
        " SELECT campaign_id FROM messages WHERE variant <> ''"
        " UNION SELECT campaign_id FROM draft_recipients WHERE variant <> '')"
    )
    for table in TABLES:
        op.execute(
            f"INSERT INTO campaign_counts ({keys}, messages, parts) "
            f"SELECT {keys}, count(*), coalesce(sum(parts), 0) FROM {table} "
            f"WHERE campaign_id IN (SELECT campaign_id FROM {table} WHERE variant <> '') "
            f"GROUP BY {keys}"
        )


def _switch(with_variant):
    if op.get_bind().dialect.name == "postgresql":
        keys = "campaign_id, state, variant" if with_variant else "campaign_id, state"
        op.execute(_pg_functions(keys))
        return
    for table in TABLES:
        for what in ("inserted", "deleted", "updated"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_counts_{what}")
        for statement in _sqlite_triggers(table, with_variant):
            op.execute(statement)


def upgrade():
    with op.batch_alter_table("campaign_counts") as batch:
        batch.add_column(sa.Column("variant", sa.String(1), nullable=False, server_default=""))
    _switch(with_variant=True)
    _recount(with_variant=True)
    op.execute("UPDATE campaigns SET split_b = 0 WHERE body_b = ''")


def downgrade():
    _switch(with_variant=False)
    op.execute(
        "DELETE FROM campaign_counts WHERE campaign_id IN ("
        " SELECT campaign_id FROM campaign_counts WHERE variant <> '')"
    )
    with op.batch_alter_table("campaign_counts") as batch:
        batch.drop_column("variant")
    for table in TABLES:
        op.execute(
            "INSERT INTO campaign_counts (campaign_id, state, messages, parts) "
            f"SELECT campaign_id, state, count(*), coalesce(sum(parts), 0) FROM {table} "
            f"WHERE campaign_id IN (SELECT campaign_id FROM {table} WHERE variant <> '') "
            "GROUP BY campaign_id, state"
        )
