"""« Clients »: the client list with its active search, the client card (« Fiche
client »), creating and editing a client, consent, « Envoi d'un SMS » (F9) and the
GDPR access export."""

import json
import secrets

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField

from .. import access
from ..services import campaigns, client_search, listings, skip_reasons
from ..services import clients as service
from ..services import consent as consents
from ..services import gdpr as gdpr_export
from ..services.credits import NotEnoughCredits
from . import composer
from .access import role_required
from .campaigns import KIND_LABELS
from .forms import CheckField, Form, IdField, TextField
from .helpers import render

bp = Blueprint("clients", __name__, url_prefix="/clients")


class ConsentForm(Form):
    """The « Envois publicitaires » block's SMS buttons."""

    choice = TextField()
    note = TextField(max_length=200)
    confirm_stop = CheckField()


class ClientForm(Form):
    """« Nouveau client » and « Modifier la fiche »: kept as typed (the service reads the
    amounts and the birthday with inputs.py and says what to fix, field by field)."""

    civility = TextField(service.FIELD_LABELS.get("civility"))
    country = TextField(service.FIELD_LABELS.get("country"), default="FR")
    birthday = TextField(service.FIELD_LABELS["birthday"])
    sms_marketing = TextField()
    sms_refuses_all = CheckField()
    # What the edit page showed (absent from « Nouveau client »: None, not « »).
    shown_sms_marketing = StringField()
    shown_sms_refuses_all = StringField()
    store_id = IdField()

    def client_input(self):
        return service.ClientInput.from_form(self.data)


def _card_fields(form):
    """The card's text, amount and tick fields, from the one list the client service keeps
    (its checks, the card and the import read the same)."""
    for name in (*service.TEXT_FIELDS, *service.MONEY_FIELDS):
        setattr(form, name, TextField(service.FIELD_LABELS.get(name)))
    for name in service.BOOL_FIELDS:
        setattr(form, name, CheckField(service.FIELD_LABELS.get(name)))


_card_fields(ClientForm)


class PhonesForm(Form):
    tel1 = TextField(strip=False)
    tel2 = TextField(strip=False)


class SmsForm(Form):
    """« Envoi d'un SMS »; `once` is the page's one-time key."""

    body = TextField(strip=False)
    add_stop = CheckField()
    once = TextField()


SKIP_LABELS = skip_reasons.SHORT
HOW_LABELS = {
    "counter": _l("au comptoir"),
    "stop": _l("par STOP SMS"),
    "import": _l("par import"),
    "api": _l("par l'intranet (API)"),
    "form": _l("par formulaire"),
}


@bp.get("/")
@role_required("staff")
def index():
    text = request.args.get("q", "").strip()[:100]
    results = client_search.search(
        current_user, text, page=listings.page_number(request.args.get("page"))
    )
    return render(
        "clients/index.html",
        "clients/_results.html",
        q=text,
        results=results,
        phone_too_short=client_search.too_short_for_a_phone(text),
        min_phone_digits=client_search.MIN_PHONE_DIGITS,
    )


def _client_or_404(client_id):
    try:
        return service.get(current_user, client_id)
    except service.NotFound:
        abort(404)


CONSENT_PROOFS_SHOWN = 10  # the newest; the GDPR export has them all


def _labels():
    return {"skip_labels": SKIP_LABELS, "kind_labels": KIND_LABELS, "how_labels": HOW_LABELS}


def _actions_context(client):
    rows = service.messages(client.id)
    return {"client": client, "rows": rows, "waiting": service.awaiting_report(rows)}


def _card_context(client, **extra):
    return (
        {
            "history": service.history(client.id),
            "phones": service.phone_notes(client.tel1, client.tel2),
            "sms_block": service.sms_block_reason(client),
            "optout": consents.opted_out(client),
            "consents": consents.consent_history(client.id, limit=CONSENT_PROOFS_SHOWN),
        }
        | _actions_context(client)
        | _labels()
        | extra
    )


@bp.get("/<int:client_id>")
@role_required("staff")
def card(client_id):
    """« Fiche client »."""
    client = _client_or_404(client_id)
    return render("clients/card.html", **_card_context(client))


@bp.get("/<int:client_id>/actions")
@role_required("staff")
def actions(client_id):
    """« Actions marketing », polled while a delivery report is awaited: only its own
    query, not the whole card's."""
    client = _client_or_404(client_id)
    return render(
        "clients/_actions.html", "clients/_actions.html", **_actions_context(client) | _labels()
    )


@bp.post("/<int:client_id>/consentement")
@role_required("staff")
def consent(client_id):
    """The « Envois publicitaires » block's SMS buttons, said at the counter."""
    client = _client_or_404(client_id)
    form = ConsentForm()
    choice, note = form.choice.data, form.note.data
    if choice not in consents.CHOICES:
        abort(400)
    try:
        changed = consents.set_consent(
            current_user, client, choice, note=note, confirm_stop=form.confirm_stop.data
        )
    except consents.ConsentInvalid as problem:
        page = render(
            "clients/card.html",
            **_card_context(client, consent_error=str(problem), consent_note=note),
        )
        return page, 422
    if changed:
        flash(_("Consentement SMS enregistré, avec sa preuve (au comptoir)."), "success")
    return redirect(url_for("clients.card", client_id=client.id), 303)


def _stores():
    return listings.stores(current_user) if access.every_store(current_user) else []


@bp.route("/nouveau", methods=["GET", "POST"])
@role_required("staff")
def new():
    errors = {}
    form = ClientForm()
    data = form.client_input()
    if form.is_submitted():
        try:
            client = service.create(current_user, data, store_id=form.store_id.data)
        except service.ClientInvalid as error:
            errors = error.errors
        else:
            flash(_("Client %(number)s créé.", number=client.number), "success")
            return redirect(url_for("clients.card", client_id=client.id), 303)
    return _form(data, errors, None, store_id=form.store_id.data)


@bp.route("/<int:client_id>/modifier", methods=["GET", "POST"])
@role_required("staff")
def edit(client_id):
    client = _client_or_404(client_id)
    errors = {}
    if request.method == "POST":
        data = ClientForm().client_input()
        try:
            service.update(current_user, client.id, data)
        except service.ClientInvalid as error:
            errors = error.errors
        else:
            flash(_("Fiche client enregistrée."), "success")
            return redirect(url_for("clients.card", client_id=client.id), 303)
    else:
        data = service.ClientInput.from_client(client)
    return _form(data, errors, client)


@bp.post("/telephones")
@role_required("staff")
def phones_check():
    """What the form says of the numbers as they are typed, and where the SMS goes."""
    form = PhonesForm()
    summary = service.phone_summary(form.tel1.data, form.tel2.data)
    return render(
        "clients/_phones.html",
        "clients/_phones.html",
        phones=summary.notes,
        sms_number=summary.sms_number,
    )


def _form(data, errors, client, *, store_id=None):
    summary = service.phone_summary(data.tel1, data.tel2)
    page = render(
        "clients/form.html",
        data=data,
        errors=errors,
        client=client,
        stores=_stores(),
        store_id=store_id,
        phones=summary.notes,
        sms_number=summary.sms_number,
    )
    return page, 422 if errors else 200


@bp.route("/<int:client_id>/sms", methods=["GET", "POST"])
@role_required("staff")
def sms(client_id):
    """« Envoi d'un SMS » (F9 on the card): a service message to this client. The form
    carries a one-time key: a double click or a re-post sends one SMS, not two."""
    client = _client_or_404(client_id)
    block = service.sms_block_reason(client)
    form = SmsForm()
    body, add_stop = form.body.data, form.add_stop.data
    error = None
    if request.method == "POST" and block is None:
        try:
            sent = service.send_single(
                current_user, client.id, body, add_stop=add_stop, once=form.once.data
            )
        except service.AlreadySent:
            flash(_("Ce SMS a déjà été envoyé : il n'est pas reparti une seconde fois."), "info")
            return redirect(url_for("clients.card", client_id=client.id), 303)
        except (campaigns.CampaignError, NotEnoughCredits) as problem:
            error = str(problem)
        else:
            if getattr(sent, "queue_down", False):
                flash(
                    _(
                        "SMS enregistré pour %(name)s : la file d'envoi est momentanément "
                        "indisponible, il partira dès son retour.",
                        name=client.display_name,
                    ),
                    "info",
                )
            else:
                flash(_("SMS envoyé à %(name)s.", name=client.display_name), "success")
            return redirect(url_for("clients.card", client_id=client.id), 303)
    page = render(
        "clients/sms.html",
        client=client,
        block=block,
        error=error,
        once=secrets.token_urlsafe(16),
        composer=composer.context(
            kind="single",
            body=body,
            client_ids=[client.id],
            store_id=client.store_id,
            add_stop=add_stop,
            autofocus=True,
        ),
    )
    return page, 422 if error else 200


@bp.get("/<int:client_id>/rgpd")
@role_required("manager")
def gdpr(client_id):
    """The GDPR access request: a printable page, and the same as a JSON download."""
    _client_or_404(client_id)
    export = gdpr_export.export(current_user, client_id)
    if request.args.get("format") == "json":
        return Response(
            json.dumps(export, ensure_ascii=False, indent=2),
            mimetype="application/json",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="rgpd-client-{export["client"]["number"]}.json"'
                )
            },
        )
    return render(
        "clients/gdpr.html",
        export=export,
        client_id=client_id,
        skip_labels=SKIP_LABELS,
        kind_labels=KIND_LABELS,
        how_labels=HOW_LABELS,
    )
