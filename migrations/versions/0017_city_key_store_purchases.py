"""The selection's « Ville » ignoring case, accents, spaces and hyphens (clients.city_key,
indexed), and a store's clients including those who bought there (an index on purchases
by store and client).

Revision ID: 0017
Revises: 0018
Create Date: 2026-12-06 22:00:00

"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0018"
branch_labels = None
depends_on = None


def _city_key(city):
    # As services.clients.city_key (a migration keeps its own copy of the rule).
    text = unicodedata.normalize("NFKD", city or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).upper()
    text = text.replace("Œ", "OE").replace("Æ", "AE").replace("ß", "SS")
    return "".join(re.findall(r"[A-Z0-9]+", text))[:80]


def upgrade():
    with op.batch_alter_table("clients") as batch:
        batch.add_column(
            sa.Column("city_key", sa.String(length=80), nullable=False, server_default="")
        )
    _fill_city_keys()
    op.create_index("ix_clients_city_key", "clients", ["city_key"], unique=False)
    op.create_index(
        "ix_purchases_store_client", "purchases", ["store_id", "client_id"], unique=False
    )


def _fill_city_keys():
    """One UPDATE per distinct city written a given way (a chain has a few thousand)."""
    bind = op.get_bind()
    clients = sa.table("clients", sa.column("city", sa.String), sa.column("city_key", sa.String))
    cities = bind.execute(sa.select(clients.c.city).where(clients.c.city != "").distinct())
    pairs = [{"b_city": city, "b_key": _city_key(city)} for (city,) in cities]
    if pairs:
        bind.execute(
            clients.update()
            .where(clients.c.city == sa.bindparam("b_city"))
            .values(city_key=sa.bindparam("b_key")),
            pairs,
        )


def downgrade():
    op.drop_index("ix_purchases_store_client", table_name="purchases")
    op.drop_index("ix_clients_city_key", table_name="clients")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("city_key")
