"""clients card, consent proof, indexed phone digits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:00:00

"""

import re
import unicodedata

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TEXT_COLUMNS = (
    ("company", 120), ("job_title", 80), ("work_phone", 30), ("fmr", 10),
    ("family_head", 80), ("works_council", 80), ("sector", 40), ("csp", 40),
    ("age_bracket", 20), ("hobby", 80), ("favourite_brands", 200), ("free1", 80),
    ("free2", 80),
)  # fmt: skip
_MONEY_COLUMNS = (("deposit", 10), ("credit_note", 10), ("credit", 10), ("discount_percent", 5))


def upgrade():
    is_postgresql = op.get_bind().dialect.name == "postgresql"
    if is_postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone_digits", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("search_name", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("blocked", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("web_registered", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        for name, length in _TEXT_COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
        for name, precision in _MONEY_COLUMNS:
            batch_op.add_column(
                sa.Column(
                    name, sa.Numeric(precision=precision, scale=2), nullable=False,
                    server_default="0",
                )
            )  # fmt: skip
        batch_op.add_column(sa.Column("extra_info", sa.Text(), nullable=False, server_default=""))
    _fill_derived_columns()
    # The server defaults only filled the existing rows; the models give the values.
    with op.batch_alter_table("clients", schema=None) as batch_op:
        for name in ("phone_digits", "search_name", "blocked", "web_registered", "extra_info"):
            batch_op.alter_column(name, server_default=None)
        for name, _ in _TEXT_COLUMNS + _MONEY_COLUMNS:
            batch_op.alter_column(name, server_default=None)
    if is_postgresql:
        op.create_index(
            "ix_clients_phone_digits", "clients", ["phone_digits"], unique=False,
            postgresql_using="gin", postgresql_ops={"phone_digits": "gin_trgm_ops"},
        )  # fmt: skip
        op.create_index(
            "ix_clients_search_name", "clients", ["search_name"], unique=False,
            postgresql_using="gin", postgresql_ops={"search_name": "gin_trgm_ops"},
        )  # fmt: skip
    else:
        op.create_index("ix_clients_phone_digits", "clients", ["phone_digits"], unique=False)
        op.create_index("ix_clients_search_name", "clients", ["search_name"], unique=False)

    op.create_index("ix_clients_first_name", "clients", ["first_name"], unique=False)

    op.create_table(
        "consent_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("how", sa.String(length=10), nullable=False),
        sa.Column("marketing_before", sa.String(length=10), nullable=False),
        sa.Column("marketing_after", sa.String(length=10), nullable=False),
        sa.Column("refuses_all_before", sa.Boolean(), nullable=False),
        sa.Column("refuses_all_after", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consent_changes_client_at", "consent_changes", ["client_id", "created_at"])


# The derived columns as services.clients computed them when this revision was written,
# copied here so that the migration does not change when the application code does.

_OVERSEAS = ("GP", "MQ", "GF", "RE", "YT")


def _e164(raw):
    text = (raw or "").strip()
    if not text or re.search(r"[^\W\d_]", text):
        return None
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        if number.country_code != 33:
            return None
        national = "0" + phonenumbers.national_significant_number(number)
        for region in _OVERSEAS:
            try:
                number = phonenumbers.parse(national, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                break
        else:
            return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phone_digits(tel1, tel2):
    found = []
    for raw in (tel1, tel2):
        forms = []
        e164 = _e164(raw)
        if e164:
            international = e164[1:]
            forms.append(international)
            if international.startswith("33"):
                forms.append("0" + international[2:])
            else:
                national = phonenumbers.national_significant_number(phonenumbers.parse(e164))
                forms.append("0" + national)
        typed = re.sub(r"\D", "", (raw or "").strip())
        if typed and typed not in forms:
            forms.append(typed)
        found += [form for form in forms if form not in found]
    return " ".join(found)[:120]


def _name_words(text):
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).upper()
    text = text.replace("Œ", "OE").replace("Æ", "AE").replace("ß", "SS")
    return re.findall(r"[A-Z0-9]+", text)


def _search_name(last_name, first_name):
    last, first = _name_words(last_name), _name_words(first_name)
    tokens = []
    for token in ("".join(last), *last, "".join(first), *first):
        if token and token not in tokens:
            tokens.append(token)
    return " ".join(tokens)[:200]


def _fill_derived_columns():
    """The search columns for the clients already on file, in chunks."""
    bind = op.get_bind()
    clients = sa.table(
        "clients", sa.column("id", sa.Integer), sa.column("tel1"), sa.column("tel2"),
        sa.column("last_name"), sa.column("first_name"), sa.column("phone_digits"),
        sa.column("search_name"),
    )  # fmt: skip
    last = 0
    while True:
        rows = bind.execute(
            sa.select(
                clients.c.id, clients.c.tel1, clients.c.tel2, clients.c.last_name,
                clients.c.first_name,
            )
            .where(clients.c.id > last)
            .order_by(clients.c.id)
            .limit(5000)
        ).all()  # fmt: skip
        if not rows:
            return
        bind.execute(
            clients.update()
            .where(clients.c.id == sa.bindparam("b_id"))
            .values(phone_digits=sa.bindparam("b_digits"), search_name=sa.bindparam("b_name")),
            [
                {
                    "b_id": r.id,
                    "b_digits": _phone_digits(r.tel1, r.tel2),
                    "b_name": _search_name(r.last_name, r.first_name),
                }
                for r in rows
            ],
        )
        last = rows[-1].id


def downgrade():
    op.drop_index("ix_consent_changes_client_at", table_name="consent_changes")
    op.drop_table("consent_changes")
    op.drop_index("ix_clients_phone_digits", table_name="clients")
    op.drop_index("ix_clients_search_name", table_name="clients")
    op.drop_index("ix_clients_first_name", table_name="clients")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        for name in ("extra_info", *(n for n, _ in _MONEY_COLUMNS + _TEXT_COLUMNS)):
            batch_op.drop_column(name)
        for name in ("web_registered", "blocked", "search_name", "phone_digits"):
            batch_op.drop_column(name)
