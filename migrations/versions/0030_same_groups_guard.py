"""the draft list's group triggers stand aside in a transaction that writes rows back as
they were (SET LOCAL shopsms.same_groups = 'on')

Preparing a campaign deletes each pending row of its list and writes it back by COPY with
its final text (services.recipients, « Envoyer »): same campaign, client, variant, group
and state, so its groups (draft_groups) do not change. Their triggers still recounted
them, and two connections preparing one list side by side waited on each other's group
rows. Such a transaction now says so, and the triggers return at once (issue 16).
PostgreSQL only: SQLite prepares a list with one writer and updates its rows in place.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 13:00:00

"""

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

FUNCTIONS = ("draft_groups_inserted", "draft_groups_deleted", "draft_groups_updated")
GUARD = (
    "\n  IF current_setting('shopsms.same_groups', true) = 'on' THEN\n"
    "    RETURN NULL;  -- rows written back as they were: the groups are unchanged\n"
    "  END IF;"
)


def _definition(bind, name):
    return bind.exec_driver_sql(f"SELECT pg_get_functiondef('{name}'::regproc)").scalar()


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for name in FUNCTIONS:
        definition = _definition(bind, name)
        if GUARD not in definition:
            # The body as 0023 wrote it, the guard first.
            bind.exec_driver_sql(definition.replace("BEGIN", "BEGIN" + GUARD, 1))


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for name in FUNCTIONS:
        bind.exec_driver_sql(_definition(bind, name).replace(GUARD, "", 1))
