"""What each file kind carries, and how one cell becomes one value (or a French reason).

A cell is text as a point of sale writes it: French dates (31/12/2024), decimals with a
comma (359,00), « Oui »/« Non », « Mme », « Rép. ». The API sends the same fields as
JSON and goes through the same parsers, so both ways in accept and refuse alike.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, TypeAlias, cast

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from ... import inputs
from ...inputs import strip_format
from ...sms import phones
from .reading import Message

# A cell's or a row's problem: (the field's name, "" for the whole row; its message).
Problem: TypeAlias = tuple[str, Message]


class _CellProblem(ValueError):
    @property
    def message(self) -> Message:
        message: Message = self.args[0]
        return message


class CellError(_CellProblem):
    """A cell refused: `message` is a lazy string, said in the language of whoever reads
    it (the import's page, the reject file, the API's answer)."""


class CellWarning(_CellProblem):
    """The cell is left aside (stored as `value`) and the row imported with a warning."""

    def __init__(self, message: Message, value: object) -> None:
        super().__init__(message)
        self.value = value


class Parser(Protocol):
    """A cell's reading: its text -> its value; raises CellError (or CellWarning)."""

    def __call__(self, value: str, /) -> Any: ...


class TextParser(Parser, Protocol):
    """A text cell's reading, which knows its longest length (the API's schema says it)."""

    max_length: int


@dataclass(frozen=True)
class Field:
    name: str
    label: LazyString  # lazy French label
    parse: Parser
    required: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def max_length(self) -> int | None:
        """A text cell's longest length; None for the other cells."""
        length: int | None = getattr(self.parse, "max_length", None)
        return length


# Line breaks are fine in a comment; other control characters are garbage (and NUL is
# refused by PostgreSQL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_FORMULA_QUOTED = re.compile(r"'[=+\-@]")


def text(max_length: int) -> TextParser:
    def read(value: str) -> str:
        if value.isprintable():
            # The usual cell: no control, bidi or zero-width character (all of them are
            # unprintable), so nothing to take away or refuse. An import's hot path.
            value = value.strip()
        else:
            value = strip_format(value).strip()
            if _CONTROL.search(value):
                raise CellError(_l("Caractère de contrôle non accepté : retirez-le."))
        if value[:1] == "'" and _FORMULA_QUOTED.match(value):
            value = value[1:]  # the reject file's guard against formulas, taken away
        if len(value) > max_length:
            raise CellError(
                _l(
                    "Trop long : %(max)s caractères au plus (ici %(typed)s).",
                    max=max_length,
                    typed=len(value),
                )
            )
        return value

    parse = cast(TextParser, read)
    parse.max_length = max_length  # the API's schema says it too
    return parse


def phone(max_length: int) -> TextParser:
    """A phone cell: kept as typed, with a warning when it is no phone number at all
    (« abc », 13 digits): the client is imported, but nobody can text that number."""
    as_text = text(max_length)

    def read(value: str) -> str:
        value = as_text(value)
        if value and phones.classify(value).kind == phones.INVALID:
            raise CellWarning(
                _l(
                    "« %(value)s » n'est pas un numéro de téléphone : ce numéro ne pourra pas "
                    "recevoir de SMS (10 chiffres en France, ou +indicatif pour l'étranger).",
                    value=value,
                ),
                value,
            )
        return value

    parse = cast(TextParser, read)
    parse.max_length = max_length
    return parse


def parse_date(value: str) -> date | None:
    """inputs.read_date, the reading the forms and the API share, with the import's message."""
    try:
        return inputs.read_date(value)
    except inputs.DateUnreadable:
        raise CellError(
            _l(
                "Date invalide « %(value)s » : attendu JJ/MM/AAAA, par exemple 31/12/2024.",
                value=value,
            )
        ) from None


def parse_birthday(value: str) -> date | None:
    """A date of birth: « 12/05/45 » is 1945, not 2045; a future date is refused."""
    day = parse_date(value)
    if day is None:
        return None
    today = date.today()
    if day > today and re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2}", value.strip().split(" ")[0]):
        day = day.replace(year=day.year - 100) if (day.month, day.day) != (2, 29) else None
        if day is None:
            raise CellError(
                _l(
                    "Date de naissance invalide « %(value)s » : écrivez l'année en entier.",
                    value=value,
                )
            )
    if day > today:
        raise CellError(
            _l("Date de naissance dans le futur « %(value)s » : vérifiez l'année.", value=value)
        )
    return day


def parse_amount(value: str) -> Decimal | None:
    """inputs.read_amount, the reading the forms and the API share, with the import's
    messages (the cell, what was expected)."""
    try:
        return inputs.read_amount(value)
    except inputs.AmountUnreadable as error:
        if error.ambiguous:
            raise CellError(
                _l(
                    "Montant ambigu « %(value)s » : écrivez 1234,00 pour mille deux cent "
                    "trente-quatre euros, ou 1,23 pour un euro vingt-trois.",
                    value=value,
                )
            ) from None
        example = "359,00" if error.unreadable_number else "1234,50"
        raise CellError(
            _l(
                "Montant invalide « %(value)s » : attendu par exemple %(example)s.",
                value=value,
                example=example,
            )
        ) from None


_YES = {"oui", "o", "yes", "y", "1", "x", "vrai", "true", "on", "accepte", "accepted"}
_NO = {"non", "n", "no", "0", "faux", "false", "off", "", "refuse", "refused"}


def _plain(value: str) -> str:
    value = value.strip().lower()
    return (
        value.replace("é", "e")
        .replace("è", "e")
        .replace("ê", "e")
        .replace("à", "a")
        .replace("û", "u")
        .rstrip(".")
    )


def parse_bool(value: str) -> bool:
    plain = _plain(value)
    if plain in _YES:
        return True
    if plain in _NO:
        return False
    raise CellError(_l("Valeur « %(value)s » non comprise : attendu Oui ou Non.", value=value))


def parse_optional_bool(value: str) -> bool | None:
    """Empty means "the file does not say": nothing changes."""
    return None if not value.strip() else parse_bool(value)


def parse_consent(value: str) -> str | None:
    """« Oui » → accepted, « Non » → refused; empty or unknown says nothing (a new client
    stays "unknown", so not reachable by marketing)."""
    plain = _plain(value)
    if plain in ("", "?", "inconnu", "unknown", "nsp"):
        return None
    if plain in _YES:
        return "accepted"
    if plain in _NO:
        return "refused"
    raise CellError(
        _l("Consentement « %(value)s » non compris : attendu Oui, Non ou vide.", value=value)
    )


_CIVILITIES = {
    "": "",
    "m": "Monsieur",
    "mr": "Monsieur",
    "monsieur": "Monsieur",
    "mme": "Madame",
    "madame": "Madame",
    "mlle": "Mademoiselle",
    "melle": "Mademoiselle",
    "mademoiselle": "Mademoiselle",
}


def parse_civility(value: str) -> str:
    plain = _plain(value)
    if plain in _CIVILITIES:
        return _CIVILITIES[plain]
    # « M. et Mme », « Dr », « Famille »: the client is still a client, only the
    # civility stays empty (and the row says so).
    raise CellWarning(
        _l(
            "Civilité « %(value)s » non reprise (attendu M., Mme ou Mlle) : laissée vide.",
            value=value,
        ),
        "",
    )


_REPAIR_KINDS = {
    "rep": "repair",
    "reparation": "repair",
    "repair": "repair",
    "garantie": "warranty",
    "warranty": "warranty",
    "gratuit": "free",
    "free": "free",
    "devis": "quote",
    "quote": "quote",
    "": "repair",
}
_REPAIR_STATUSES = {
    "": "open",
    "open": "open",
    "ouvert": "open",
    "en cours": "open",
    "en magasin": "open",
    "atelier": "at_workshop",
    "a l'atelier": "at_workshop",
    "envoye": "at_workshop",
    "at_workshop": "at_workshop",
    "disponible": "ready",
    "pret": "ready",
    "ready": "ready",
    "retour atelier": "ready",
    "rendu": "collected",
    "sorti": "collected",
    "livre": "collected",
    "collected": "collected",
    "annule": "cancelled",
    "cancelled": "cancelled",
}


def parse_repair_kind(value: str) -> str:
    plain = _plain(value)
    if plain in _REPAIR_KINDS:
        return _REPAIR_KINDS[plain]
    raise CellError(
        _l(
            "Opération « %(value)s » non comprise : attendu Rép., Garantie, Gratuit ou Devis.",
            value=value,
        )
    )


def parse_repair_status(value: str) -> str:
    plain = _plain(value)
    if plain in _REPAIR_STATUSES:
        return _REPAIR_STATUSES[plain]
    raise CellError(
        _l(
            "État « %(value)s » non compris : attendu En cours, Atelier, Disponible, Rendu "
            "ou Annulé.",
            value=value,
        )
    )


def parse_country(value: str) -> str:
    value = value.strip().upper() or "FR"
    if value in ("FRANCE",):
        return "FR"
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise CellError(
            _l("Pays « %(value)s » : attendu un code à deux lettres (FR, BE…).", value=value)
        )
    return value


F = Field
CLIENT_FIELDS = (
    F(
        "external_id",
        _l("Identifiant"),
        text(64),
        True,
        ("id", "idclient", "codeclient", "identifiant", "refclient", "externalid", "code"),
    ),
    F(
        "number",
        _l("N° client"),
        text(20),
        False,
        ("numclient", "noclient", "numeroclient", "nclient", "number", "numero", "ncarte"),
    ),
    F(
        "store",
        _l("Magasin"),
        text(10),
        False,
        ("magasin", "codemagasin", "mag", "boutique", "store", "codemag"),
    ),
    F("civility", _l("Civilité"), parse_civility, False, ("civilite", "civ", "titre")),
    F("last_name", _l("Nom"), text(80), True, ("nom", "nomclient", "lastname")),
    F("first_name", _l("Prénom"), text(80), False, ("prenom", "firstname")),
    F("address1", _l("Adresse"), text(120), False, ("adresse", "adresse1", "rue")),
    F(
        "address2",
        _l("Complément d'adresse"),
        text(120),
        False,
        ("adresse2", "complementadresse", "complement"),
    ),
    F("postal_code", _l("Code postal"), text(10), False, ("cp", "codepostal", "postalcode")),
    F("city", _l("Ville"), text(80), False, ("ville", "commune", "localite", "city")),
    F("country", _l("Pays"), parse_country, False, ("pays", "country")),
    F(
        "tel1",
        _l("Tél. 1"),
        phone(30),
        False,
        ("tel1", "tel", "telephone", "telephone1", "portable", "mobile", "gsm"),
    ),
    F("tel2", _l("Tél. 2"), phone(30), False, ("tel2", "telephone2", "telfixe", "fixe")),
    F(
        "email",
        _l("E-mail"),
        text(120),
        False,
        ("email", "mail", "courriel", "adressemail", "adresseemail"),
    ),
    F(
        "birthday",
        _l("Date de naissance"),
        parse_birthday,
        False,
        ("datenaissance", "datedenaissance", "naissance", "anniversaire", "birthday"),
    ),
    F(
        "created_on",
        _l("Date de création"),
        parse_date,
        False,
        ("datecreation", "datedecreation", "creele", "createdon"),
    ),
    F("salesperson", _l("Vendeur"), text(80), False, ("vendeur", "vendeuse", "salesperson")),
    F(
        "sms_consent",
        _l("Accord SMS"),
        parse_consent,
        False,
        ("accordsms", "optinsms", "consentementsms", "sms", "smsconsent", "oksms"),
    ),
    F(
        "sms_refuses_all",
        _l("Refuse tout SMS"),
        parse_optional_bool,
        False,
        ("refusetoutsms", "stoptoutsms", "smsrefusesall"),
    ),
    F(
        "email_consent",
        _l("Accord e-mail"),
        parse_bool,
        False,
        ("accordemail", "optinemail", "accordmail", "emailconsent"),
    ),
    F(
        "post_consent",
        _l("Accord courrier"),
        parse_bool,
        False,
        ("accordcourrier", "optincourrier", "postconsent"),
    ),
    F("npai", _l("NPAI"), parse_bool, False, ("npai",)),
    F("is_prospect", _l("Prospect"), parse_bool, False, ("prospect", "isprospect")),
    F(
        "comment",
        _l("Commentaire"),
        text(2000),
        False,
        ("commentaire", "remarque", "remarques", "observations", "comment"),
    ),
)
PURCHASE_FIELDS = (
    F(
        "external_id",
        _l("Identifiant"),
        text(64),
        True,
        ("id", "idvente", "identifiant", "externalid", "idticket", "idpassage"),
    ),
    F(
        "client",
        _l("Identifiant du client"),
        text(64),
        True,
        ("idclient", "client", "codeclient", "refclient"),
    ),
    F("store", _l("Magasin"), text(10), False, ("magasin", "codemagasin", "mag", "store")),
    F("date", _l("Date"), parse_date, True, ("date", "datevente", "dateticket", "datepassage")),
    F(
        "amount",
        _l("Montant TTC"),
        parse_amount,
        True,
        ("montant", "montantttc", "ttc", "total", "totalttc", "amount", "prix"),
    ),
    F("brand", _l("Marque"), text(80), False, ("marque", "brand", "fournisseur")),
    F(
        "ticket_number",
        _l("N° ticket"),
        text(30),
        False,
        ("numticket", "noticket", "nticket", "ticket", "numeroticket", "ticketnumber"),
    ),
)
REPAIR_FIELDS = (
    F(
        "external_id",
        _l("Identifiant"),
        text(64),
        True,
        ("id", "idfiche", "identifiant", "externalid", "idsav"),
    ),
    F(
        "number",
        _l("N° fiche"),
        text(20),
        True,
        ("numfiche", "nofiche", "fiche", "numerofiche", "number", "numero", "nfiche"),
    ),
    F(
        "client",
        _l("Identifiant du client"),
        text(64),
        True,
        ("idclient", "client", "codeclient", "refclient"),
    ),
    F("store", _l("Magasin"), text(10), False, ("magasin", "codemagasin", "mag", "store")),
    F("kind", _l("Opération"), parse_repair_kind, False, ("oper", "operation", "type", "kind")),
    F("status", _l("État"), parse_repair_status, False, ("etat", "statut", "status")),
    F(
        "item_description",
        _l("Descriptif"),
        text(200),
        False,
        ("descriptif", "article", "objet", "description"),
    ),
    F(
        "work_description",
        _l("Réparation"),
        text(200),
        False,
        ("reparation", "travaux", "intervention"),
    ),
    F(
        "client_price",
        _l("Montant"),
        parse_amount,
        False,
        ("montant", "prix", "prixclient", "montantttc"),
    ),
    F("deposit", _l("Acompte"), parse_amount, False, ("acompte", "arrhes", "deposit")),
    F(
        "received_on",
        _l("Date de dépôt"),
        parse_date,
        False,
        ("datedepot", "datededepot", "depot", "date", "datereception", "receivedon"),
    ),
    F(
        "returned_on",
        _l("Date de retour"),
        parse_date,
        False,
        ("dateretour", "retour", "returnedon"),
    ),
    F("collected_on", _l("Sortie"), parse_date, False, ("sortie", "datesortie", "collectedon")),
    F(
        "workshop_comment",
        _l("Commentaire atelier"),
        text(2000),
        False,
        ("commentaireatelier", "commentaire", "remarque"),
    ),
)
FIELDS = {"clients": CLIENT_FIELDS, "purchases": PURCHASE_FIELDS, "repairs": REPAIR_FIELDS}
KIND_LABELS = {
    "clients": _l("Clients"),
    "purchases": _l("Ventes / passages"),
    "repairs": _l("Fiches SAV"),
}


def field_map(kind: str) -> dict[str, Field]:
    return {field.name: field for field in FIELDS[kind]}


def french(label: Message) -> str:
    """The French text of a lazy label, usable outside a request (jobs, API)."""
    with force_locale("fr"):
        return str(label)


def _required(field: Field) -> LazyString:
    return _l("Valeur obligatoire : « %(label)s ».", label=field.label)


def parse_row(
    kind: str, raw: Mapping[str, object], warnings: list[Problem] | None = None
) -> tuple[dict[str, Any], list[Problem]]:
    """raw: field → text. Returns (values, errors) with errors a list of (field, message);
    only the fields present in `raw` are in values (an unmapped column changes nothing).
    A cell left aside with a warning adds (field, message) to `warnings` when given,
    else refuses the row."""
    values: dict[str, Any] = {}
    errors: list[Problem] = []
    for field in FIELDS[kind]:
        if field.name not in raw:
            if field.required:
                errors.append((field.name, _required(field)))
            continue
        cell = raw[field.name]
        cell = "" if cell is None else str(cell)
        if field.required and not cell.strip():
            errors.append((field.name, _required(field)))
            continue
        try:
            values[field.name] = field.parse(cell)
        except CellWarning as warning:
            if warnings is None:
                errors.append((field.name, warning.message))
            else:
                values[field.name] = warning.value
                warnings.append((field.name, warning.message))
        except CellError as error:
            errors.append((field.name, error.message))
    return values, errors
