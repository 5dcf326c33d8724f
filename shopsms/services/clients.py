"""The client card: the card's facts, creating and editing a client, and the single SMS.
Its derived columns (SMS number, phone digits, search name, city key) live in
services.client_fields, consent in services.consent, the GDPR export in services.gdpr.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Self, TypeAlias, TypedDict

import redis
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import Row, func, select

from .. import access, formats, inputs
from ..access import Person
from ..extensions import db
from ..models import CIVILITIES, Campaign, Client, Message, Purchase, Store, utcnow
from ..queue import get_redis, local_keys
from ..sms import phones
from . import audit, campaigns, eligibility
from .client_fields import phone_fields
from .consent import change_consent, consent_history, opted_out  # noqa: F401 (re-exported)

# --- Reading a card -----------------------------------------------------------------


class NotFound(LookupError):
    """No such client, or not one this person may see (same answer: no leak)."""


def get(user: Person, client_id: int) -> Client:
    """A card this person may open: head office any; a store the cards made there and
    those of the clients who bought there, as its selection reaches them
    (selection.store_clients), so that every recipient a store texts has a card it can
    open and correct."""
    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound(client_id)
    if access.may_see_store(user, client.store_id):
        return client
    bought_here = db.session.scalar(
        select(Purchase.id)
        .where(Purchase.client_id == client.id, Purchase.store_id == user.store_id)
        .limit(1)
    )
    if bought_here is None:
        raise NotFound(client_id)
    return client


@dataclass(frozen=True)
class History:
    sales: int
    revenue: Decimal  # incl. VAT
    last_visit: date | None
    last_store: str


def history(client_id: int) -> History:
    """« Historique »: number of sales, revenue incl. VAT, last visit (one indexed read)."""
    row = db.session.execute(
        select(
            func.count(Purchase.id),
            func.coalesce(func.sum(Purchase.amount), 0),
            func.max(Purchase.date),
        ).where(Purchase.client_id == client_id)
    ).one()
    last_store = ""
    if row[2] is not None:
        last_store = (
            db.session.scalar(
                select(Store.name)
                .join(Purchase, Purchase.store_id == Store.id)
                .where(Purchase.client_id == client_id)
                .order_by(Purchase.date.desc(), Purchase.id.desc())
                .limit(1)
            )
            or ""
        )
    return History(int(row[0]), Decimal(row[1]), row[2], last_store)


# A message of the card's list, with its campaign's kind, name and author.
MessageRow: TypeAlias = Row[Message, str, str, int | None]


def messages(client_id: int, limit: int | None = 50) -> Sequence[MessageRow]:
    """« Actions marketing »: the SMS this client was sent, newest first (all of them
    with limit=None)."""
    query = (
        select(Message, Campaign.kind, Campaign.name, Campaign.created_by_id)
        .join(Campaign, Campaign.id == Message.campaign_id)
        .where(Message.client_id == client_id, Campaign.status != "draft")
        .order_by(Message.created_at.desc(), Message.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return db.session.execute(query).all()


# A delivery report later than this is not waited for on screen: a gateway that never
# sends one would otherwise keep the card polling for as long as it stays open.
REPORT_WAIT = timedelta(minutes=15)
_IN_FLIGHT = ("pending", "submitting", "submitted")


def awaiting_report(rows: Iterable[MessageRow], *, now: datetime | None = None) -> bool:
    """Whether a recent message of the card may still change state (the list polls)."""
    since = (now or utcnow()) - REPORT_WAIT
    return any(row.Message.state in _IN_FLIGHT and row.Message.created_at >= since for row in rows)


_WARNINGS = {
    phones.INVALID: _l("Numéro invalide : vérifiez les chiffres."),
    phones.LANDLINE: _l("Numéro fixe : pas d'envoi de SMS possible."),
}


@dataclass(frozen=True)
class PhoneNote:
    raw: str
    display: str
    kind: str  # empty, invalid, landline, mobile
    warning: str  # what to fix, empty when fine


@dataclass(frozen=True)
class PhoneSummary:
    """What the card and the form say of tel1/tel2, and where an SMS goes."""

    notes: list
    sms_number: str | None  # E.164


def phone_summary(tel1: str | None, tel2: str | None) -> PhoneSummary:
    notes = []
    for raw in (tel1, tel2):
        phone = phones.classify(raw)
        notes.append(
            PhoneNote(phone.raw, phones.display(raw), phone.kind, _WARNINGS.get(phone.kind, ""))
        )
    return PhoneSummary(notes, phone_fields(tel1, tel2)["sms_number"])


def phone_notes(tel1: str | None, tel2: str | None) -> list[PhoneNote]:
    return phone_summary(tel1, tel2).notes


def sms_block_reason(client: Client) -> str | LazyString | None:
    """Why « Envoi d'un SMS » is not possible for this client, or None."""
    reason = eligibility.skip_reason("single", client, client.sms_number, ())
    if reason == "refuses_all":
        return _l("Le client refuse tout SMS : aucun message ne peut lui être envoyé.")
    if reason == "no_mobile":
        reason = phones.no_sms_reason(client.tel1, client.tel2)
        return formats.said(reason) if reason else _l("Aucun numéro de portable")
    return None


# --- Creating and editing ------------------------------------------------------------

TEXT_FIELDS = {
    # name: (max length, required)
    "last_name": (80, True),
    "first_name": (80, False),
    "address1": (120, False),
    "address2": (120, False),
    "postal_code": (10, False),
    "city": (80, False),
    "tel1": (30, False),
    "tel2": (30, False),
    "email": (120, False),
    "company": (120, False),
    "job_title": (80, False),
    "work_phone": (30, False),
    "salesperson": (80, False),
    "fmr": (10, False),
    "family_head": (80, False),
    "works_council": (80, False),
    "sector": (40, False),
    "csp": (40, False),
    "age_bracket": (20, False),
    "hobby": (80, False),
    "favourite_brands": (200, False),
    "free1": (80, False),
    "free2": (80, False),
    "comment": (4000, False),
    "extra_info": (4000, False),
}
BOOL_FIELDS = ("is_prospect", "blocked", "web_registered", "email_consent", "post_consent", "npai")
MONEY_FIELDS = ("deposit", "credit_note", "credit", "discount_percent")
FIELD_LABELS = {
    "last_name": _l("Nom"),
    "first_name": _l("Prénom"),
    "postal_code": _l("Code postal"),
    "tel1": _l("Tél. 1"),
    "tel2": _l("Tél. 2"),
    "email": _l("E-mail"),
    "birthday": _l("Anniversaire"),
    "deposit": _l("Acompte"),
    "credit_note": _l("Avoir"),
    "credit": _l("Crédit"),
    "discount_percent": _l("% Remise"),
    "civility": _l("Genre"),
    "country": _l("Pays"),
}
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ClientInvalid(ValueError):
    def __init__(self, errors: Mapping[str, str | LazyString]) -> None:
        self.errors = errors  # field name → French message
        super().__init__("; ".join(map(str, errors.values())))


@dataclass
class ClientInput:
    """What the form posted, kept as typed so that an error loses nothing."""

    values: dict = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: Mapping[str, Any]) -> Self:
        values = {name: (form.get(name) or "").strip() for name in TEXT_FIELDS}
        values |= {name: bool(form.get(name)) for name in BOOL_FIELDS}
        values |= {name: (form.get(name) or "").strip() for name in MONEY_FIELDS}
        values["civility"] = (form.get("civility") or "").strip()
        values["country"] = (form.get("country") or "FR").strip().upper()
        values["birthday"] = (form.get("birthday") or "").strip()
        values["sms_marketing"] = (form.get("sms_marketing") or "").strip()
        values["sms_refuses_all"] = bool(form.get("sms_refuses_all"))
        # The consent the edit form showed: only what the user changed from it is saved,
        # so a STOP received while the form was open is not undone by a stale page.
        values["shown_sms_marketing"] = form.get("shown_sms_marketing")
        values["shown_sms_refuses_all"] = form.get("shown_sms_refuses_all")
        return cls(values)

    @classmethod
    def from_client(cls, client: Client) -> Self:
        values = {name: getattr(client, name) or "" for name in TEXT_FIELDS}
        values |= {name: bool(getattr(client, name)) for name in BOOL_FIELDS}
        values |= {name: _french_number(getattr(client, name)) for name in MONEY_FIELDS}
        values |= {
            "civility": client.civility,
            "country": client.country,
            "birthday": client.birthday.isoformat() if client.birthday else "",
            "sms_marketing": client.sms_consent,
            "sms_refuses_all": client.sms_refuses_all,
            "shown_sms_marketing": client.sms_consent,
            "shown_sms_refuses_all": "1" if client.sms_refuses_all else "0",
        }
        return cls(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def _french_number(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}".replace(".", ",")


def _clean(data: ClientInput) -> dict[str, Any]:
    """The values to store, or ClientInvalid with what to fix, in French."""
    values, errors = {}, {}
    for name, (length, required) in TEXT_FIELDS.items():
        text = data.values.get(name, "")
        if required and not text:
            errors[name] = _l("Le champ « %(field)s » est obligatoire.", field=FIELD_LABELS[name])
        elif len(text) > length:
            errors[name] = _l("%(length)s caractères au plus.", length=length)
        values[name] = text
    for name in ("tel1", "tel2"):
        kind = phones.classify(values[name]).kind
        if kind == phones.INVALID:
            errors[name] = _l(
                "« %(value)s » n'est pas un numéro de téléphone valide : vérifiez les "
                "chiffres (10 chiffres en France, ou +indicatif pour l'étranger).",
                value=values[name],
            )
    if values["email"] and not _EMAIL_RE.fullmatch(values["email"]):
        errors["email"] = _l("Adresse e-mail invalide (exemple : prenom.nom@exemple.fr).")
    french = data.values.get("country", "FR") == "FR"
    if values["postal_code"] and french and not re.fullmatch(r"\d{5}", values["postal_code"]):
        errors["postal_code"] = _l("Un code postal français a 5 chiffres.")
    for name in BOOL_FIELDS:
        values[name] = bool(data.values.get(name))
    for name in MONEY_FIELDS:
        try:  # « 12,50 € » as in the import and the repair form
            amount = inputs.read_amount(data.values.get(name, "")) or Decimal("0.00")
        except inputs.AmountUnreadable as error:
            errors[name] = (
                _l("Montant trop grand.")
                if error.too_large
                else _l("« %(field)s » : un montant, par exemple 12,50.", field=FIELD_LABELS[name])
            )
            continue
        if name == "discount_percent" and not Decimal(0) <= amount <= Decimal(100):
            errors[name] = _l("% Remise : de 0 à 100.")
        values[name] = amount
    civility = data.values.get("civility", "")
    if civility and civility not in CIVILITIES:
        errors["civility"] = _l("Choisissez Madame, Monsieur, Mademoiselle ou rien.")
    values["civility"] = civility
    country = data.values.get("country", "FR") or "FR"
    if not re.fullmatch(r"[A-Z]{2}", country):
        errors["country"] = _l("Le pays s'écrit en deux lettres (FR, BE, ES…).")
    values["country"] = country
    birthday = data.values.get("birthday", "")
    values["birthday"] = None
    if birthday:
        try:
            values["birthday"] = inputs.read_date(birthday)
        except inputs.DateUnreadable:
            errors["birthday"] = _l("Date d'anniversaire invalide (jj/mm/aaaa).")
        else:
            if values["birthday"] > date.today():
                errors["birthday"] = _l("La date d'anniversaire est dans le futur.")
    if errors:
        raise ClientInvalid(errors)
    values["birthday_md"] = (
        values["birthday"].month * 100 + values["birthday"].day if values["birthday"] else None
    )
    return values | phone_fields(values["tel1"], values["tel2"])


def _next_number() -> str:
    """The next « N° client »: one above the highest all-digits number, 7 digits."""
    highest = db.session.scalar(
        select(func.max(Client.number)).where(Client.number.between("0000000", "9999999"))
    )
    try:
        return f"{int(highest or 0) + 1:07d}"
    except ValueError:
        return f"{(db.session.scalar(select(func.count(Client.id))) or 0) + 1:07d}"


def create(user: Person, data: ClientInput, *, store_id: int | None = None) -> Client:
    """A new client of the person's store (head office chooses). Commits."""
    values = _clean(data)
    store_id = access.requested_store(user, store_id) or user.store_id
    if store_id is None:
        raise ClientInvalid({"store_id": _l("Choisissez le magasin de création du client.")})
    client = Client(number=_next_number(), store_id=store_id, **values)
    db.session.add(client)
    db.session.flush()
    change_consent(
        client.id, **_consent_changes(data), how="counter", user_id=user.id, store_id=user.store_id
    )
    audit.record("client.create", store_id=store_id, obj=client)
    db.session.commit()
    return client


def update(user: Person, client_id: int, data: ClientInput) -> Client:
    """Save the card. Consent changes are recorded with their proof. Commits."""
    client = get(user, client_id)
    values = _clean(data)
    consent = _consent_changes(data)
    for name, value in values.items():
        setattr(client, name, value)
    if consent.get("marketing") == "accepted" and opted_out(client):
        db.session.rollback()
        raise ClientInvalid(
            {
                "sms_marketing": _l(
                    "Ce numéro a envoyé STOP : pour le réinscrire, utilisez « Accepte les SMS » "
                    "sur la fiche et notez la demande du client."
                )
            }
        )
    change_consent(client.id, **consent, how="counter", user_id=user.id, store_id=user.store_id)
    audit.record("client.update", store_id=client.store_id, obj=client)
    db.session.commit()
    return client


class _ConsentChanges(TypedDict):
    marketing: str | None
    refuses_all: bool | None


def _consent_changes(data: ClientInput) -> _ConsentChanges:
    """The consent the form asks for, less what the user left as the form showed it."""
    marketing = data.values.get("sms_marketing")
    if marketing not in ("accepted", "refused", "unknown"):
        marketing = None
    refuses_all: bool | None = bool(data.values.get("sms_refuses_all"))
    shown_marketing = data.values.get("shown_sms_marketing")
    shown_refuses_all = data.values.get("shown_sms_refuses_all")
    if shown_marketing is not None and marketing == shown_marketing:
        marketing = None
    if shown_refuses_all is not None and refuses_all == (shown_refuses_all == "1"):
        refuses_all = None
    return {"marketing": marketing, "refuses_all": refuses_all}


# --- The single SMS -----------------------------------------------------------------

# A form's one-time key stays claimed this long: a second click, a reload that posts
# again, or the same page posted twice a minute later sends nothing more.
_ONCE_SECONDS = 24 * 3600


class AlreadySent(Exception):
    """This form was already posted: the SMS went (or is going) with the first one."""


def claim_once(key: str | None) -> bool:
    """True the first time a form's one-time key is seen, False after. Redis SET NX: two
    posts arriving together cannot both win, whichever worker takes them."""
    if not key or len(key) > 64:
        return False
    try:
        return bool(get_redis().set(f"shopsms:once:{key}", 1, nx=True, ex=_ONCE_SECONDS))
    except redis.RedisError:  # Redis away: this process's memory (see LocalKeys)
        return local_keys.set_once(f"shopsms:once:{key}", _ONCE_SECONDS)


def send_single(
    user: Person,
    client_id: int,
    body: str,
    *,
    add_stop: bool = False,
    once: str | None = None,
) -> Campaign:
    """« Envoi d'un SMS »: a service message to this client, sent now through the
    campaign pipeline. Raises campaigns.CampaignError (French) when it cannot go, and
    AlreadySent when `once` (a form's one-time key; None for a caller that is not a
    form) is missing or was already used."""
    client = get(user, client_id)
    reason = sms_block_reason(client)
    if reason:
        raise campaigns.CampaignError(reason)
    if not body.strip():  # checked before the key is spent: the user fixes and resends
        raise campaigns.CampaignError(_l("Le message est vide : écrivez le texte du SMS."))
    if once is not None and not claim_once(once):
        raise AlreadySent(client.id)
    campaign = campaigns.draft(
        "single",
        body=body,
        recipients=[campaigns.Recipient(client_id=client.id)],
        store_id=client.store_id,
        user_id=user.id,
        add_stop=add_stop,
        name=f"SMS à {client.display_name}"[:120],
    )
    try:
        return campaigns.queue_now(campaign.id, user_id=user.id)
    except Exception:
        # Not sent: no draft left behind in the reports.
        db.session.rollback()
        campaigns.cancel(campaign.id, user_id=user.id)
        raise
