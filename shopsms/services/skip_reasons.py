"""Why a recipient gets no SMS, in words: one row a reason (the reasons themselves are
models.campaign.SKIP_REASONS; who is reachable is eligibility.RULES), each with what
every screen and export says of it:
- `label`: the reports and their exports (a French document keeps it as it is; the
  report screens translate it, see reports.N_);
- `short`: the lists' counts and columns (« 12 sans accord SMS »);
- `explain`: why a row of the recipient list cannot be put back, when it cannot."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


def N_(text: str) -> str:
    """Marks French text for the catalogue; the screens translate it (web/reports.py), the
    exports, French documents, keep it as it is. Works without a request (workers)."""
    return text


@dataclass(frozen=True)
class SkipReason:
    label: str
    short: object  # a lazy string
    explain: object = None


SKIP_REASONS = {
    "optout": SkipReason(
        N_("A demandé STOP"),
        _l("STOP SMS"),
        _l("Ce numéro a demandé STOP : il ne reçoit plus de SMS publicitaires."),
    ),
    "no_consent": SkipReason(
        N_("Pas de consentement aux SMS publicitaires"),
        _l("sans accord SMS"),
        _l("Ce client n'a pas donné son accord pour les SMS publicitaires."),
    ),
    "refuses_all": SkipReason(
        N_("Refuse tout SMS"), _l("refuse tout SMS"), _l("Ce client refuse tout SMS.")
    ),
    "no_mobile": SkipReason(
        N_("Pas de numéro de portable (fixe, invalide ou vide)"),
        _l("pas de portable"),
        _l("Pas de numéro de portable : corrigez le téléphone."),
    ),
    "duplicate": SkipReason(
        N_("Numéro déjà servi dans cet envoi"),
        _l("numéro en double"),
        _l("Ce numéro reçoit déjà le message pour un autre client de la liste."),
    ),
    "cancelled": SkipReason(N_("Envoi annulé"), _l("annulé")),
    "removed": SkipReason(N_("Retiré de la liste des destinataires"), _l("retiré de la liste")),
    "control": SkipReason(
        N_("Groupe témoin (tiré au hasard, ne reçoit pas le SMS)"),
        _l("groupe témoin"),
        _l(
            "Ce client est dans le groupe témoin : il ne reçoit pas le SMS, pour mesurer ce "
            "que la campagne rapporte. Réduisez la part du groupe témoin pour en texter "
            "davantage."
        ),
    ),
    "pressure": SkipReason(N_("Pression marketing"), _l("pression marketing")),
}

LABELS = {key: reason.label for key, reason in SKIP_REASONS.items()}
SHORT = {key: reason.short for key, reason in SKIP_REASONS.items()}
EXPLAIN = {key: reason.explain for key, reason in SKIP_REASONS.items() if reason.explain}
