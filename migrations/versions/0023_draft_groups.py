"""a draft's recipients grouped by what their card costs (draft_groups), kept by triggers

The composer's exact cost read every recipient id of a draft at each pause in the typing
(issue 15). Each row of a list now carries the shape of its client's card (grp: store,
civility, names with their ASCII letters written « A », see sms.cost.shape), and
draft_groups counts the pending rows per shape: triggers keep it in the transaction of
every change of the list, whatever the code that writes (PostgreSQL with one statement
trigger per change reading its transition tables, SQLite with row triggers). Existing
drafts get their rows' shapes and groups here.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 01:40:00

"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

PG_FUNCTIONS = """
CREATE FUNCTION draft_groups_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO draft_groups AS g (campaign_id, variant, grp, recipients, first_client_id)
  SELECT campaign_id, variant, grp, count(*), min(client_id)
  FROM new_rows WHERE state = 'pending' GROUP BY campaign_id, variant, grp
  ON CONFLICT (campaign_id, variant, grp) DO UPDATE
    SET recipients = g.recipients + excluded.recipients,
        first_client_id = least(g.first_client_id, excluded.first_client_id);
  RETURN NULL;
END $$;

CREATE FUNCTION draft_groups_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE draft_groups AS g SET recipients = g.recipients - d.n
  FROM (SELECT campaign_id, variant, grp, count(*) AS n FROM old_rows
        WHERE state = 'pending' GROUP BY campaign_id, variant, grp) AS d
  WHERE g.campaign_id = d.campaign_id AND g.variant = d.variant AND g.grp = d.grp;
  -- A group whose first client left the list names the next one (the composer's
  -- warnings name it): one probe of ix_draft_recipients_pending_grp per such group.
  UPDATE draft_groups AS g SET first_client_id = coalesce(
    (SELECT min(d.client_id) FROM draft_recipients AS d
     WHERE d.campaign_id = g.campaign_id AND d.grp = g.grp AND d.variant = g.variant
       AND d.state = 'pending'), g.first_client_id)
  FROM (SELECT DISTINCT campaign_id, variant, grp, client_id FROM old_rows
        WHERE state = 'pending') AS o
  WHERE g.campaign_id = o.campaign_id AND g.variant = o.variant AND g.grp = o.grp
    AND g.first_client_id = o.client_id;
  RETURN NULL;
END $$;


CREATE FUNCTION draft_groups_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO draft_groups AS g (campaign_id, variant, grp, recipients, first_client_id)
  SELECT campaign_id, variant, grp, sum(n), coalesce(min(client_id) FILTER (WHERE n > 0), 0)
  FROM (
    SELECT campaign_id, variant, grp, client_id, 1 AS n FROM new_rows WHERE state = 'pending'
    UNION ALL
    SELECT campaign_id, variant, grp, client_id, -1 FROM old_rows WHERE state = 'pending'
  ) AS changes
  GROUP BY campaign_id, variant, grp
  HAVING sum(n) <> 0
  ON CONFLICT (campaign_id, variant, grp) DO UPDATE
    SET recipients = g.recipients + excluded.recipients,
        first_client_id = CASE WHEN excluded.first_client_id > 0
                               THEN least(g.first_client_id, excluded.first_client_id)
                               ELSE g.first_client_id END;
  -- A group whose first client left the list names the next one (the composer's
  -- warnings name it): one probe of ix_draft_recipients_pending_grp per such group.
  UPDATE draft_groups AS g SET first_client_id = coalesce(
    (SELECT min(d.client_id) FROM draft_recipients AS d
     WHERE d.campaign_id = g.campaign_id AND d.grp = g.grp AND d.variant = g.variant
       AND d.state = 'pending'), g.first_client_id)
  FROM (SELECT DISTINCT campaign_id, variant, grp, client_id FROM old_rows
        WHERE state = 'pending') AS o
  WHERE g.campaign_id = o.campaign_id AND g.variant = o.variant AND g.grp = o.grp
    AND g.first_client_id = o.client_id;
  RETURN NULL;
END $$;
"""

PG_TRIGGERS = [
    "CREATE TRIGGER draft_recipients_groups_inserted AFTER INSERT ON draft_recipients "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION draft_groups_inserted()",
    "CREATE TRIGGER draft_recipients_groups_deleted AFTER DELETE ON draft_recipients "
    "REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION draft_groups_deleted()",
    "CREATE TRIGGER draft_recipients_groups_updated AFTER UPDATE ON draft_recipients "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION draft_groups_updated()",
]

_SQLITE_ADD = """
  INSERT INTO draft_groups (campaign_id, variant, grp, recipients, first_client_id)
    SELECT NEW.campaign_id, NEW.variant, NEW.grp, 1, NEW.client_id WHERE NEW.state = 'pending'
  ON CONFLICT (campaign_id, variant, grp) DO UPDATE
    SET recipients = recipients + 1, first_client_id = min(first_client_id, NEW.client_id);"""
_SQLITE_REMOVE = """
  UPDATE draft_groups SET recipients = recipients - 1
    WHERE OLD.state = 'pending' AND campaign_id = OLD.campaign_id
      AND variant = OLD.variant AND grp = OLD.grp;
  UPDATE draft_groups SET first_client_id = coalesce(
      (SELECT min(client_id) FROM draft_recipients
       WHERE campaign_id = OLD.campaign_id AND grp = OLD.grp AND variant = OLD.variant
         AND state = 'pending'), first_client_id)
    WHERE OLD.state = 'pending' AND campaign_id = OLD.campaign_id
      AND variant = OLD.variant AND grp = OLD.grp AND first_client_id = OLD.client_id;"""

SQLITE_TRIGGERS = [
    "CREATE TRIGGER draft_recipients_groups_inserted AFTER INSERT ON draft_recipients "
    f"WHEN NEW.state = 'pending' BEGIN{_SQLITE_ADD}\nEND",
    "CREATE TRIGGER draft_recipients_groups_deleted AFTER DELETE ON draft_recipients "
    f"WHEN OLD.state = 'pending' BEGIN{_SQLITE_REMOVE}\nEND",
    "CREATE TRIGGER draft_recipients_groups_updated "
    "AFTER UPDATE OF state, grp, variant ON draft_recipients "
    "WHEN OLD.state IS NOT NEW.state OR OLD.grp IS NOT NEW.grp "
    f"OR OLD.variant IS NOT NEW.variant BEGIN{_SQLITE_REMOVE}{_SQLITE_ADD}\nEND",
]
NAMES = ("inserted", "deleted", "updated")

# sms.cost.shape as it was written (a migration does not follow later code).
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SHAPE = str.maketrans(_LETTERS, "A" * len(_LETTERS))
_PLAIN = frozenset(_LETTERS + " '-éÉüÜöÖäÄñÑåÅæÆøØ")


def _shape(value):
    value = value or ""
    core = value.strip(" ")
    if _PLAIN.issuperset(core):
        return "A" * len(core)
    return value.translate(_SHAPE)


def _backfill(bind):
    """The shapes of the lists of existing drafts (a few, short-lived): read and written
    here, before the triggers exist; their groups then counted in one statement."""
    rows = bind.execute(
        sa.text(
            "SELECT d.id, c.store_id, c.civility, c.first_name, c.last_name "
            "FROM draft_recipients d JOIN clients c ON c.id = d.client_id"
        )
    ).all()
    update = sa.text("UPDATE draft_recipients SET grp = :grp WHERE id = :id")
    batch = []
    for row_id, store_id, civility, first, last in rows:
        key = [store_id, civility or "", _shape(first), _shape(last)]
        batch.append({"id": row_id, "grp": json.dumps(key, ensure_ascii=False)})
        if len(batch) == 5000:
            bind.execute(update, batch)
            batch = []
    if batch:
        bind.execute(update, batch)
    bind.execute(
        sa.text(
            "INSERT INTO draft_groups (campaign_id, variant, grp, recipients, first_client_id) "
            "SELECT campaign_id, variant, grp, count(*), min(client_id) FROM draft_recipients "
            "WHERE state = 'pending' GROUP BY campaign_id, variant, grp"
        )
    )


def upgrade():
    with op.batch_alter_table("draft_recipients") as batch:
        batch.add_column(sa.Column("grp", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "draft_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=1), nullable=False, server_default=""),
        sa.Column("grp", sa.Text(), nullable=False, server_default=""),
        sa.Column("recipients", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_client_id", sa.Integer(), nullable=False),
    )
    op.create_index("ix_draft_groups_campaign_variant_grp", "draft_groups",
                    ["campaign_id", "variant", "grp"], unique=True)  # fmt: skip
    op.create_index("ix_draft_recipients_pending_grp", "draft_recipients",
                    ["campaign_id", "grp", "client_id"],
                    postgresql_where=sa.text("state = 'pending'"),
                    sqlite_where=sa.text("state = 'pending'"))  # fmt: skip
    bind = op.get_bind()
    _backfill(bind)
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTIONS)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS draft_recipients_groups_{name}"
                   + (" ON draft_recipients" if postgresql else ""))  # fmt: skip
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS draft_groups_{name}()")
    op.drop_index("ix_draft_recipients_pending_grp", table_name="draft_recipients")
    op.drop_index("ix_draft_groups_campaign_variant_grp", table_name="draft_groups")
    op.drop_table("draft_groups")
    with op.batch_alter_table("draft_recipients") as batch:
        batch.drop_column("grp")
