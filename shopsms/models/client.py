from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

CIVILITIES = ("Monsieur", "Madame", "Mademoiselle")
# Marketing SMS consent: unknown until the client says (an unknown is not reachable).
SMS_CONSENTS = ("unknown", "accepted", "refused")


class Client(db.Model):
    """A customer of the chain, with every field of the seed's client card."""

    __tablename__ = "clients"
    __table_args__ = (
        Index("ix_clients_name", "last_name", "first_name"),
        # A store's client list opens on its first names in order (client_search).
        Index("ix_clients_store_name", "store_id", "last_name", "first_name", "id"),
        # The search matches a first name typed alone too: without this index, that one
        # OR term would make every word search read the whole table.
        Index("ix_clients_first_name", "first_name"),
        Index("ix_clients_postal_code", "postal_code"),
        Index("ix_clients_city", "city"),
        # « Ville » as the selection compares it (services.client_fields.city_key).
        Index("ix_clients_city_key", "city_key"),
        Index("ix_clients_birthday_md", "birthday_md"),
        # "Part of a phone number": a trigram GIN index serves LIKE '%0612%' on
        # PostgreSQL; on SQLite the same name is a plain btree, which the search reads
        # as a narrow covering scan instead of the whole table (services/client_search).
        Index(
            "ix_clients_phone_digits",
            "phone_digits",
            postgresql_using="gin",
            postgresql_ops={"phone_digits": "gin_trgm_ops"},
        ),
        # The name search: a word's start, at the start of the column or after a space.
        # PostgreSQL serves both LIKEs from trigrams; SQLite ranges over its btree.
        Index(
            "ix_clients_search_name",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The point of sale's id, for import and sync; unique when given.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # « N° client »
    is_prospect: Mapped[bool] = mapped_column(default=False)
    civility: Mapped[str] = mapped_column(String(12), default="")
    last_name: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(80), default="")
    address1: Mapped[str] = mapped_column(String(120), default="")
    address2: Mapped[str] = mapped_column(String(120), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    # The city without accents, capitals, spaces or hyphens ("Neuilly-sur-Seine" →
    # "NEUILLYSURSEINE"): what the selection's « Ville » matches. Derived by
    # services.client_fields.city_key, like search_name.
    city_key: Mapped[str] = mapped_column(String(80), default="")
    country: Mapped[str] = mapped_column(String(2), default="FR")
    tel1: Mapped[str] = mapped_column(String(30), default="")
    tel2: Mapped[str] = mapped_column(String(30), default="")
    # Where an SMS goes (E.164), derived from tel1/tel2 by the SMS core; indexed for STOP.
    sms_number: Mapped[str | None] = mapped_column(String(20), index=True)
    # tel1 and tel2 as digits, national and international forms, space-separated
    # ("0612345678 33612345678"): what the phone search matches. Derived, like
    # sms_number, by services.client_fields.phone_fields.
    phone_digits: Mapped[str] = mapped_column(String(120), default="")
    # The names without accents, in capitals, as words ("LEGALL LE GALL JEANPIERRE JEAN
    # PIERRE"): what the name search matches. Derived by services.clients.
    search_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    birthday: Mapped[date | None]
    # Month*100+day, so that "birthday between two dates, any year" is an indexed range.
    birthday_md: Mapped[int | None] = mapped_column(SmallInteger)
    created_on: Mapped[date] = mapped_column(default=date.today)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    salesperson: Mapped[str] = mapped_column(String(80), default="")
    sms_consent: Mapped[str] = mapped_column(String(10), default="unknown")
    # « Refuse tout SMS »: not even a repair notice goes out.
    sms_refuses_all: Mapped[bool] = mapped_column(default=False)
    email_consent: Mapped[bool] = mapped_column(default=False)
    post_consent: Mapped[bool] = mapped_column(default=False)
    npai: Mapped[bool] = mapped_column(default=False)  # « N'habite pas à l'adresse indiquée »
    comment: Mapped[str] = mapped_column(Text, default="")
    # The rest of the seed's card, shown and edited, with no rule of ours behind them.
    blocked: Mapped[bool] = mapped_column(default=False)  # « Client Bloqué »
    web_registered: Mapped[bool] = mapped_column(default=False)  # « Client inscrit Web »
    company: Mapped[str] = mapped_column(String(120), default="")  # coord. professionnelles
    job_title: Mapped[str] = mapped_column(String(80), default="")
    work_phone: Mapped[str] = mapped_column(String(30), default="")
    fmr: Mapped[str] = mapped_column(String(10), default="")  # « FMR » segment
    deposit: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))  # Acompte
    credit_note: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))  # Avoir
    credit: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))  # Crédit
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    family_head: Mapped[str] = mapped_column(String(80), default="")  # « Chef de famille »
    works_council: Mapped[str] = mapped_column(String(80), default="")  # « C. E. »
    sector: Mapped[str] = mapped_column(String(40), default="")
    csp: Mapped[str] = mapped_column(String(40), default="")
    age_bracket: Mapped[str] = mapped_column(String(20), default="")
    hobby: Mapped[str] = mapped_column(String(80), default="")
    favourite_brands: Mapped[str] = mapped_column(String(200), default="")
    free1: Mapped[str] = mapped_column(String(80), default="")
    free2: Mapped[str] = mapped_column(String(80), default="")
    extra_info: Mapped[str] = mapped_column(Text, default="")  # « Infos complémentaires »
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    store = relationship("Store")

    @property
    def address_incomplete(self):
        """« Adresse incomplète »: derived, as the seed's filter needs it, never stored."""
        return not (self.address1.strip() and self.postal_code.strip() and self.city.strip())

    @property
    def display_name(self):
        return f"{self.last_name} {self.first_name}".strip()

    def __repr__(self):
        return f"<Client {self.number} {self.display_name}>"


class SharedNumber(db.Model):
    """A number that two clients or more share (a family's one mobile): kept by database
    triggers on clients (migration 0028) as cards are written, whoever writes. The live
    count of a selection counts a shared number once; every other reachable client has a
    number of their own, so it need not group 100,000 numbers to find a few duplicates
    (issue 15)."""

    __tablename__ = "shared_numbers"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)  # E.164
