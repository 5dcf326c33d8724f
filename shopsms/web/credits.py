"""« Crédits SMS »: the balance, the ledger that makes it, the consumption per month and
store, head office's top-ups, and a prepared e-mail to ask for one."""

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..plurals import ngettext
from ..services import credits, listings, settings
from .access import role_required
from .forms import Form, ParsedField, TextField
from .helpers import render

bp = Blueprint("credits", __name__, url_prefix="/credits")

KIND_LABELS = {
    "topup": _l("Recharge"),
    "reservation": _l("Réservation"),
    "charge": _l("Consommation"),
    "refund": _l("Remboursement"),
    "release": _l("Crédits rendus"),
}


@bp.app_context_processor
def _low_credit():
    """The low-balance banner of every page: computed at most once per request, and only
    when a page asks (two small aggregate queries)."""

    def low_credit():
        if not current_user.is_authenticated:
            return None
        if "low_credit" not in g:
            try:
                g.low_credit = credits.low_balance()
            except SQLAlchemyError:  # an error page must still render
                db.session.rollback()
                g.low_credit = None
        return g.low_credit

    return {"low_credit": low_credit}


TOP_UP_ERRORS = {
    ("amount", "invalid"): _l(
        "Saisissez un nombre de crédits entier et positif, par exemple 5000."
    ),
    ("amount", "too_high"): _l("Montant trop élevé : 10 000 000 crédits au plus par recharge."),
    ("reference", "missing"): _l(
        "Saisissez la référence de la recharge (n° de facture ou de commande)."
    ),
    ("reference", "too_long"): _l("La référence fait 120 caractères au plus."),
}


class TopUpForm(Form):
    # A number of credits, not euros: the service reads it (credits.parse_amount).
    amount = TextField(_l("Crédits"))
    reference = TextField(_l("Référence"))


def _wished(raw, _label):
    amount = credits.parse_amount(raw)
    if amount is None:
        raise ValueError(
            _l("Recharge souhaitée : saisissez un nombre de crédits entier et positif.")
        )
    return amount


class RequestForm(Form):
    """« Demander une recharge »: the credits wished for, optional, in the query string."""

    class Meta:
        csrf = False  # a GET: it only fills in an e-mail

    demande = ParsedField(_l("Crédits souhaités (facultatif)"), reader=_wished)


def _page(status=200, top_up=None):
    wished = RequestForm(formdata=request.args)
    wished.validate()
    field = wished.demande
    raw_requested = field.raw_data[0].strip() if field.raw_data else ""
    requested = field.data
    requested_error = field.errors[0] if field.errors else ""
    full_page = not request.htmx
    # One read of the balance and the settings for the page and its low-credit banner.
    left = credits.balance()
    g.low_credit = credits.low_balance(left)
    email = settings.get("topup_email")
    mailto = None
    if email and field.raw_data and not requested_error:
        store = current_user.store
        mailto = credits.topup_request_mailto(
            email=email,
            store_name=store.name if store else _("Siège"),
            left=left,
            requested=requested,
            who=current_user.full_name or current_user.username,
        )
    results = listings.ledger(current_user, page=listings.page_number(request.args.get("page")))
    response = render(
        "credits/index.html",
        "credits/_list.html",
        balance=left,
        threshold=settings.page_values()["low_credit_threshold"],
        results=results,
        kind_labels=KIND_LABELS,
        # A page click swaps the ledger only: the chart is not in it.
        consumption=credits.monthly_consumption(current_user) if full_page else None,
        topup_email=email,
        requested=requested,
        raw_requested=raw_requested,
        requested_error=requested_error,
        mailto=mailto,
        top_up=top_up or TopUpForm(formdata=None),
    )
    return response, status


@bp.get("/")
@role_required("staff")
def index():
    return _page()


@bp.post("/recharger")
@role_required("admin")
def top_up():
    form = TopUpForm()
    form.validate()
    amount, problems = credits.validate_top_up(form.amount.data, form.reference.data)
    if problems:
        form.fail({key: TOP_UP_ERRORS[key, problem] for key, problem in problems.items()})
        return _page(400, top_up=form)
    credits.top_up(amount, reference=form.reference.data, user=current_user)
    flash(
        ngettext(
            "Recharge de %(num)d crédit enregistrée.",
            "Recharge de %(num)d crédits enregistrée.",
            amount,
        ),
        "success",
    )
    return redirect(url_for("credits.index"))
