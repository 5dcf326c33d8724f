"""SAV: « Gestion des fiches » (the seed's list, criteria and columns), a ticket's card,
the « Retour atelier », the SMS about one ticket or a batch, and the SAV settings tab.

One blueprint, its views split by concern in the modules imported at the bottom."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("repairs", __name__, url_prefix="/sav")

# The seed's « Opér. » column.
KIND_LABELS = {
    "repair": _l("Rép."),
    "warranty": _l("Garantie"),
    "free": _l("Gratuit"),
    "quote": _l("Devis"),
}
KIND_NAMES = {
    "repair": _l("Réparation"),
    "warranty": _l("Garantie"),
    "free": _l("Gratuit"),
    "quote": _l("Devis"),
}
STATUS_OPTIONS = {
    "ready": _l("Disponibles"),
    "open": _l("En magasin"),
    "at_workshop": _l("À l'atelier"),
    "collected": _l("Rendues"),
    "cancelled": _l("Annulées"),
    "all": _l("Toutes"),
}
STATUS_LABELS = {
    "ready": _l("Disponible"),
    "open": _l("En magasin"),
    "at_workshop": _l("À l'atelier"),
    "collected": _l("Rendue"),
    "cancelled": _l("Annulée"),
}
SMS_OPTIONS = {"all": _l("Tous"), "with": _l("Avec"), "without": _l("Sans")}
NOTIFIED_OPTIONS = {"": _l("Indifférent"), "sms": _l("SMS"), "none": _l("Non prévenu")}
DATE_FIELDS = {
    "received_on": _l("Date de dépôt"),
    "sent_to_workshop_on": _l("Date d'envoi à l'atelier"),
    "returned_on": _l("Date de retour"),
    "collected_on": _l("Date de sortie"),
}
MODE_LABELS = {
    "none": _l("Pas de message par défaut"),
    "proposed": _l("Proposition d'un message (message modifiable)"),
    "imposed": _l("Message à envoyer (message non modifiable)"),
}
# Why a client gets no SMS: repair_notices.UNREACHABLE, as the screens say it.
UNREACHABLE_LABELS = {
    "no_mobile": _l("Pas de numéro de portable sur la fiche client"),
    "refuses_all": _l("Le client refuse tout SMS"),
}

# Ids come from forms and URLs; beyond an integer column's range they cannot exist, and
# the database would refuse them (OverflowError) instead of finding nothing.
MAX_ID = 2**31 - 1


def parse_id(value):
    """A posted or typed id, or None when it is not one that can exist."""
    text = str(value or "").strip()
    if not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def parse_ids(values):
    return [i for i in (parse_id(v) for v in values) if i is not None]


def common():
    return {
        "kind_labels": KIND_LABELS,
        "kind_names": KIND_NAMES,
        "status_labels": STATUS_LABELS,
    }


from . import notify, settings_tab, tickets, workshop_return  # noqa: E402, F401  (routes)
