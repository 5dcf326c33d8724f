"""the draft list's pages keep room for each row's text (fillfactor 30, PostgreSQL)

Preparing a campaign gives every pending row of its list its final text and parts
(services.recipients._freeze_range_pg). Neither is in an index: with room left on its
page, a row's new version stays there and no index entry is written (a HOT update).
Rows are about 100 bytes before their text and 200 to 250 after: at 30 % full, nearly
every row of a page finds room. Deleting and writing back the rows instead went through
the list's five indexes twice (issue 16). Pages written from now on keep the room.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 16:40:00

"""

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE draft_recipients SET (fillfactor = 30)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE draft_recipients RESET (fillfactor)")
