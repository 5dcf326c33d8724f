"""each client's marketing SMS as the pressure cap counts them (marketing_pressure), kept by
triggers on messages; the cap it is kept for (pressure_basis), by a trigger on settings

The live count's « pression marketing » grouped every marketing SMS of the cap's days by
client on each change of a criterion: 100,000 after a chain campaign, for a handful of
clients over the cap (issue 15). Each client's counted SMS (newest first, the last 366
days: the longest cap) and the one that puts them at the cap are now kept, in the
transaction of every change of a message, whatever the code that writes; the live count
reads the clients over the cap along ix_marketing_pressure_nth. A client's row is locked
(in client order) before its SMS are merged, so that two campaigns sending to the same
client side by side each add theirs. PostgreSQL only: on SQLite the tables stay empty and
the live count counts from the messages, as before.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 09:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

# services.pressure.RECEIVED_STATES, as they are at this migration.
COUNTED = "('submitting', 'submitted', 'delivered')"
# settings.DEFAULTS["pressure_max"] at this migration, for a chain that never changed it.
DEFAULT_MOST = 2

PG_FUNCTIONS = f"""
CREATE FUNCTION marketing_pressure_apply(client_ids integer[], times timestamp[],
                                         deltas integer[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  cap_most integer := (SELECT b.most FROM pressure_basis AS b WHERE b.id = 1);
  cutoff timestamp := (now() AT TIME ZONE 'UTC') - interval '366 days';
BEGIN
  IF cardinality(client_ids) = 0 THEN
    RETURN;
  END IF;
  INSERT INTO marketing_pressure (client_id)
  SELECT DISTINCT c FROM unnest(client_ids) AS c ORDER BY 1
  ON CONFLICT (client_id) DO NOTHING;
  -- Locked in client order: a campaign sending to the same clients waits, then merges
  -- into what this one wrote (the next statement reads the rows afresh).
  PERFORM 1 FROM marketing_pressure WHERE client_id = ANY (client_ids)
  ORDER BY client_id FOR UPDATE;
  -- Each client's SMS, as a multiset: those kept, plus those that now count, minus those
  -- that no longer do; in one set-based statement (a function per client cost 60 ms a
  -- batch of 500).
  UPDATE marketing_pressure AS p
  SET sent = coalesce(merged.sent, '{{}}'),
      nth = CASE WHEN cap_most > 0 THEN merged.sent[cap_most] END
  FROM (
    SELECT k.client_id, kept.sent
    FROM (SELECT DISTINCT c AS client_id FROM unnest(client_ids) AS c) AS k
    LEFT JOIN (
      SELECT net.client_id, array_agg(net.t ORDER BY net.t DESC) AS sent
      FROM (SELECT client_id, t, sum(delta)::integer AS copies
            FROM (SELECT p2.client_id, s.t, 1 AS delta
                  FROM marketing_pressure AS p2, unnest(p2.sent) AS s (t)
                  WHERE p2.client_id = ANY (client_ids)
                  UNION ALL
                  SELECT c, t, delta FROM unnest(client_ids, times, deltas) AS x (c, t, delta)
                 ) AS changes
            WHERE t > cutoff
            GROUP BY client_id, t) AS net,
           generate_series(1, net.copies) AS copy
      GROUP BY net.client_id
    ) AS kept ON kept.client_id = k.client_id
  ) AS merged
  WHERE p.client_id = merged.client_id;
END $$;

CREATE FUNCTION marketing_pressure_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM marketing_pressure_apply(array_agg(n.client_id), array_agg(n.created_at),
                                   array_agg(1))
  FROM new_rows AS n JOIN campaigns AS c ON c.id = n.campaign_id
  WHERE n.state IN {COUNTED} AND c.kind = 'marketing' AND n.client_id IS NOT NULL
  HAVING count(*) > 0;
  RETURN NULL;
END $$;

CREATE FUNCTION marketing_pressure_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM marketing_pressure_apply(array_agg(o.client_id), array_agg(o.created_at),
                                   array_agg(-1))
  FROM old_rows AS o JOIN campaigns AS c ON c.id = o.campaign_id
  WHERE o.state IN {COUNTED} AND c.kind = 'marketing' AND o.client_id IS NOT NULL
  HAVING count(*) > 0;
  RETURN NULL;
END $$;

CREATE FUNCTION marketing_pressure_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM marketing_pressure_apply(array_agg(client_id), array_agg(created_at),
                                   array_agg(delta))
  FROM (
    SELECT side.client_id, side.created_at, side.delta
    FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
    JOIN campaigns AS c ON c.id = n.campaign_id AND c.kind = 'marketing',
    LATERAL (VALUES (o.client_id, o.created_at, -1, o.state IN {COUNTED}),
                    (n.client_id, n.created_at, 1, n.state IN {COUNTED}))
      AS side (client_id, created_at, delta, counted)
    WHERE side.counted AND side.client_id IS NOT NULL
      AND ((o.state IN {COUNTED}) IS DISTINCT FROM (n.state IN {COUNTED})
           OR o.client_id IS DISTINCT FROM n.client_id
           OR o.created_at IS DISTINCT FROM n.created_at)
  ) AS changes
  HAVING count(*) > 0;
  RETURN NULL;
END $$;

CREATE FUNCTION pressure_basis_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cap_most integer := -1;
BEGIN
  IF TG_OP <> 'DELETE' AND NEW.key = 'pressure_max' AND NEW.store_id IS NULL THEN
    cap_most := (NEW.value #>> '{{}}')::integer;
  ELSIF TG_OP = 'DELETE' AND OLD.key = 'pressure_max' AND OLD.store_id IS NULL THEN
    cap_most := -1;
  ELSE
    RETURN NULL;
  END IF;
  INSERT INTO pressure_basis AS b (id, most) VALUES (1, cap_most)
  ON CONFLICT (id) DO UPDATE SET most = excluded.most;
  UPDATE marketing_pressure
  SET nth = CASE WHEN cap_most > 0 THEN sent[cap_most] END
  WHERE nth IS DISTINCT FROM
        (CASE WHEN cap_most > 0 THEN sent[cap_most] END);
  RETURN NULL;
END $$;
"""

PG_TRIGGERS = [
    "CREATE TRIGGER messages_pressure_inserted AFTER INSERT ON messages "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION marketing_pressure_inserted()",
    "CREATE TRIGGER messages_pressure_deleted AFTER DELETE ON messages "
    "REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION marketing_pressure_deleted()",
    "CREATE TRIGGER messages_pressure_updated AFTER UPDATE ON messages "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION marketing_pressure_updated()",
    "CREATE TRIGGER settings_pressure_basis AFTER INSERT OR UPDATE OR DELETE ON settings "
    "FOR EACH ROW EXECUTE FUNCTION pressure_basis_changed()",
]
NAMES = ("inserted", "deleted", "updated")


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    sent = sa.ARRAY(sa.DateTime()) if postgresql else sa.JSON()
    op.create_table(
        "marketing_pressure",
        sa.Column("client_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("sent", sent, nullable=False, server_default="{}"),
        sa.Column("nth", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_marketing_pressure_nth", "marketing_pressure", ["nth", "client_id"],
                    postgresql_where=sa.text("nth IS NOT NULL"),
                    sqlite_where=sa.text("nth IS NOT NULL"))  # fmt: skip
    op.create_table(
        "pressure_basis",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("most", sa.Integer(), nullable=False),
    )
    if not postgresql:
        return
    op.execute(
        "INSERT INTO pressure_basis (id, most) SELECT 1, coalesce((SELECT (value #>> '{}')"
        f"::integer FROM settings WHERE key = 'pressure_max' AND store_id IS NULL), {DEFAULT_MOST})"
    )
    op.execute(
        "INSERT INTO marketing_pressure (client_id, sent) "
        "SELECT m.client_id, array_agg(m.created_at ORDER BY m.created_at DESC) "
        "FROM messages AS m JOIN campaigns AS c ON c.id = m.campaign_id "
        f"WHERE m.state IN {COUNTED} AND c.kind = 'marketing' AND m.client_id IS NOT NULL "
        "AND m.created_at > (now() AT TIME ZONE 'UTC') - interval '366 days' "
        "GROUP BY m.client_id"
    )
    op.execute(
        "UPDATE marketing_pressure SET nth = sent[b.most] FROM pressure_basis AS b "
        "WHERE b.most > 0"
    )
    op.execute(PG_FUNCTIONS)
    for statement in PG_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS settings_pressure_basis ON settings")
        op.execute("DROP FUNCTION IF EXISTS pressure_basis_changed()")
        for name in NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS messages_pressure_{name} ON messages")
            op.execute(f"DROP FUNCTION IF EXISTS marketing_pressure_{name}()")
        op.execute("DROP FUNCTION IF EXISTS marketing_pressure_apply(integer[], timestamp[], integer[])")
    op.drop_index("ix_marketing_pressure_nth", table_name="marketing_pressure")
    op.drop_table("pressure_basis")
    op.drop_table("marketing_pressure")
