"""SAV list « Respecter les critères de sélection » (an index to find a ticket's client in
a selection), and the default workshop-return message signed with the store (<MAGASIN>)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 19:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

# The default text before and after this revision; a value someone kept as it was
# (chain or store) follows the new default, a value written by hand stays.
OLD_MESSAGE = (
    "Bonjour <GEN> <NOMPROPRE>, votre réparation <NUM> est disponible en magasin. "
    "Merci de vous munir de votre ticket pour venir récupérer votre article."
)
NEW_MESSAGE = (
    "Bonjour <GEN> <NOMPROPRE>, votre réparation <NUM> est disponible en magasin. "
    "Merci de venir la chercher avec votre ticket.\n<MAGASIN>"
)

settings = sa.table(
    "settings", sa.column("id", sa.Integer), sa.column("key", sa.String),
    sa.column("value", sa.JSON),
)  # fmt: skip


def _replace(old, new):
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(settings.c.id, settings.c.value).where(
            settings.c.key == "workshop_return_message"
        )
    ).all()
    for row in rows:
        if row.value == old:
            connection.execute(settings.update().where(settings.c.id == row.id).values(value=new))


def upgrade():
    op.create_index(
        "ix_draft_recipients_campaign_client",
        "draft_recipients",
        ["campaign_id", "client_id"],
        unique=False,
    )
    _replace(OLD_MESSAGE, NEW_MESSAGE)


def downgrade():
    _replace(NEW_MESSAGE, OLD_MESSAGE)
    op.drop_index("ix_draft_recipients_campaign_client", table_name="draft_recipients")
