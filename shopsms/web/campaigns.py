"""« Campagnes »: every sending of the store (the chain for head office), with a live
progress bar while something is going out."""

from datetime import datetime, time
from functools import partial
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField

from .. import access, formats, selection
from ..extensions import db
from ..inputs import INT_MAX, parse_amount, parse_int
from ..models import Brand, Store
from ..services import (
    campaign_status,
    campaigns,
    credits,
    listings,
    pressure,
    recipients,
    results,
    selections,
    sending_hours,
    settings,
    skip_reasons,
    variants,
)
from ..sms import phones
from . import composer
from .access import role_required
from .forms import CheckField, DayField, Form, IdField, ParsedField, TextField
from .helpers import render

bp = Blueprint("campaigns", __name__, url_prefix="/campagnes")

KIND_LABELS = {
    "single": _l("Message client"),
    "marketing": _l("Campagne"),
    "repair": _l("SAV"),
    "workshop_return": _l("Retour atelier"),
}
STATUS_LABELS = campaign_status.STATUS_LABELS
# Where the live page says what « Envoyer » reserved (once the sending starts, its
# progress says what is spent).
RESERVED_SHOWN = ("scheduled", "queued")


@bp.get("/")
@role_required("staff")
def index():
    status = request.args.get("statut", "")
    if status not in listings.CAMPAIGN_STATUS_FILTERS:
        status = ""
    results = listings.campaigns(
        current_user, status=status, page=listings.page_number(request.args.get("page"))
    )
    return render(
        "campaigns/index.html",
        "campaigns/_list.html",
        results=results,
        status=status,
        # Poll only while something on the page is going out (Hypermedia Systems).
        polling=any(row.Campaign.status in listings.ACTIVE_STATUSES for row in results.rows),
        done_share=listings.done_share,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
    )


# --- « Nouvelle campagne »: selection, recipient list, compose and send ---------------

SMS_LABELS = {"all": _l("Tous"), "with": _l("Avec"), "without": _l("Sans")}
TRI_LABELS = {"all": _l("Tous"), "yes": _l("Oui"), "no": _l("Non")}
EXCLUSION_LABELS = skip_reasons.SHORT


def _selection_page(criteria, values, *, errors=None, notice=None, replaces=None, status=200):
    count = None
    if not errors:
        count = recipients.live_count(current_user, criteria)
    return (
        render(
            "campaigns/new.html",
            "campaigns/_count.html",
            values=values,
            errors=errors or {},
            count=count,
            notice=notice,
            replaces=replaces,
            stores=_stores(),
            brands=list(db.session.execute(select(Brand.id, Brand.name).order_by(Brand.name))),
            saved_selections=selections.visible(current_user),
            sms_labels=SMS_LABELS,
            tri_labels=TRI_LABELS,
            exclusion_labels=EXCLUSION_LABELS,
            split=_split(count),
        ),
        status,
    )


def _split(count):
    """« N destinataires · M en groupe témoin » of the live count, at the chain's share."""
    if count is None or not count.reachable:
        return None
    store_id = access.store_scope(current_user)
    return results.split_of(count.reachable, int(settings.get("control_share", store_id)))


def _stores():
    query = select(Store.id, Store.code, Store.name).order_by(Store.code)
    return list(db.session.execute(access.scoped(query, Store.id, current_user)))


def _values_from(criteria):
    """Form values showing these criteria (dates as the date inputs want them)."""
    values = {}
    for key, value in criteria.to_dict().items():
        if key in ("birthday_from", "birthday_to"):
            value = f"{value % 100:02d}/{value // 100:02d}"
        values[key] = "" if value is None else str(value)
    return values


DATE_UNREADABLE = _l("%(label)s : date incorrecte (jj/mm/aaaa).")


class BuildForm(Form):
    """« Liste des clients » and « Enregistrer la sélection », beside the criteria (read by
    CriteriaForm, shared with the live count)."""

    action = TextField()
    replaces = IdField()
    selection_name = TextField(strip=False)
    created_store_id = IdField()


class RowsForm(Form):
    """Which rows of the draft's list the page showed (« voir », « page », and its place:
    « depuis », « avant »)."""

    voir = TextField()
    page = TextField()
    depuis = TextField()
    avant = TextField()


class PhoneForm(Form):
    phone = TextField(strip=False)
    update_card = CheckField()


class ControlShareForm(Form):
    control_share = TextField(strip=False)


class DraftForm(Form):
    """What a draft's page posts with each of its buttons: the texts and the sender."""

    body = TextField(strip=False)
    sender_id = TextField()
    body_b = StringField()  # « Variante B » (None: the screen had one text)
    date = DayField(_l("Date"))
    time = TextField()
    accept_next = TextField()
    action = TextField()
    split_b = TextField(max_length=20)
    test_phone = TextField(strip=False)


def _whole(minimum=0, maximum=INT_MAX):
    return partial(parse_int, minimum=minimum, maximum=maximum)


class CriteriaForm(Form):
    """The selection's criteria (« Sélection des filtres »), read alike by the page, its
    live count (htmx GET at each change: the fields' names are the query's) and
    « Liste des clients » (POST); selection.from_values makes them Criteria."""

    class Meta:
        csrf = False  # read by GETs too; the POST's token is checked by CSRFProtect

    created_store_id = ParsedField(_l("Magasin de création"), reader=_whole(1))
    last_visit_store_id = ParsedField(_l("Magasin de la dernière visite"), reader=_whole(1))
    brand_id = ParsedField(_l("Marque"), reader=_whole(1))
    period_start = DayField(_l("Période, début"), message=DATE_UNREADABLE)
    period_end = DayField(_l("Période, fin"), message=DATE_UNREADABLE)
    revenue = ParsedField(_l("Chiffre d'affaires"), reader=parse_amount)
    revenue_op = TextField()
    visits = ParsedField(_l("Nombre de passages"), reader=_whole())
    visits_op = TextField()
    no_purchase_too = TextField()
    absent_days = ParsedField(
        _l("Clients qui ne sont pas venus depuis"),
        reader=_whole(1, selection.ABSENT_DAYS_MAX),
    )
    city = TextField(strip=False)
    postal_code = TextField(strip=False)
    birthday_from = ParsedField(_l("Anniversaire, du"), reader=selection.day_month)
    birthday_to = ParsedField(_l("Anniversaire, au"), reader=selection.day_month)
    name = TextField(strip=False)
    sms = TextField()
    address_incomplete = TextField()
    npai = TextField()

    def typed(self):
        """The fields as typed, to show them again."""
        return {name: field.raw_data[0] for name, field in self._fields.items() if field.raw_data}

    def criteria(self):
        """(Criteria, None), or (None, {field: message}) for what to fix."""
        self.validate()
        errors = self.field_errors()
        values = {name: field.data for name, field in self._fields.items()}
        values["no_purchase_too"] = self.no_purchase_too.data in ("1", "on", "true")
        try:
            criteria = selection.from_values(values, unreadable=errors)
        except selection.CriteriaErrors as error:
            return None, error.errors | errors
        return (None, errors) if errors else (criteria, None)


def _parse(formdata=None):
    """The criteria of the query (a GET's) or of the posted form."""
    form = CriteriaForm() if formdata is None else CriteriaForm(formdata=formdata)
    criteria, errors = form.criteria()
    return criteria, form.typed(), errors


@bp.get("/nouvelle")
@role_required("staff")
def new():
    """« Sélection des filtres »: the criteria, with the live count under them."""
    replaces = request.args.get("depuis", type=int)
    saved_id = request.args.get("selection", type=int)
    notice = None
    if saved_id is not None:
        try:
            saved = selections.get(current_user, saved_id)
        except selections.SelectionError as error:
            return _selection_page(selection.Criteria(), {}, errors={"saved": str(error)})
        criteria = selections.criteria(saved)
        values = _values_from(criteria) | {"selection_name": saved.name}
        notice = gettext("Sélection « %(name)s » ouverte.", name=saved.name)
    elif replaces is not None:
        try:
            criteria = recipients.criteria_of(recipients.get(current_user, replaces, "draft"))
        except campaigns.CampaignError:
            return redirect(url_for("campaigns.new"))
        values = _values_from(criteria)
        if recipients.get(current_user, replaces).body:
            notice = gettext(
                "Le message déjà écrit est gardé : il reviendra avec la nouvelle liste des clients."
            )
    else:
        criteria, values, errors = _parse(request.args)
        if errors:
            return _selection_page(selection.Criteria(), values, errors=errors)
    return _selection_page(criteria, values, notice=notice, replaces=replaces)


# The criteria whose field shows its own message (templates/campaigns/new.html).
ERROR_FIELDS = (
    "revenue",
    "visits",
    "period_start",
    "period_end",
    "absent_days",
    "postal_code",
    "birthday_from",
    "birthday_to",
)


@bp.get("/nouvelle/compte")
@role_required("staff")
def count():
    """The live count, asked for as the criteria change; a criterion at fault is marked
    on its field at once, with its message, and the others' marks are cleared."""
    criteria, values, errors = _parse(request.args)
    result = None
    if not errors:
        result = recipients.live_count(current_user, criteria)
    return render_template(
        "campaigns/_count.html",
        errors=errors or {},
        count=result,
        values=values,
        exclusion_labels=EXCLUSION_LABELS,
        oob=True,
        error_fields=ERROR_FIELDS,
        split=_split(result),
    )


FILTER_KEY = "selection_filter"  # the last criteria, for the reports' « Retour filtre »


def _remember_filter(criteria):
    session[FILTER_KEY] = urlencode(_values_from(criteria))


def filter_url():
    """« Retour filtre »: the selection screen with the criteria last used."""
    query = session.get(FILTER_KEY, "")
    return url_for("campaigns.new") + (f"?{query}" if query else "")


@bp.get("/nouvelle/rapports")
@role_required("staff")
def to_reports():
    """« Consulter les rapports » from the selection: the criteria are kept for the
    reports screen's « Retour filtre »."""
    criteria, _values, errors = _parse(request.args)
    if not errors:
        _remember_filter(criteria)
    return redirect(url_for("reports.index"))


@bp.post("/nouvelle")
@role_required("staff")
def build():
    """« Liste des clients »: freeze the selection into a draft campaign."""
    criteria, values, errors = _parse()
    form = BuildForm()
    values["selection_name"] = form.selection_name.data
    replaces = form.replaces.data
    if errors:
        return _selection_page(None, values, errors=errors, replaces=replaces, status=422)
    if form.action.data == "save":
        try:
            saved = selections.save(current_user, form.selection_name.data, criteria)
        except selections.SelectionError as error:
            errors = {"selection_name": str(error)}
            return _selection_page(criteria, values, errors=errors, replaces=replaces, status=422)
        notice = gettext("Sélection « %(name)s » enregistrée.", name=saved.name)
        return _selection_page(criteria, values, notice=notice, replaces=replaces)
    _remember_filter(criteria)
    try:
        campaign = recipients.draft_from_selection(
            current_user,
            criteria,
            store_id=form.created_store_id.data,
            replaces=replaces,
        )
    except campaigns.CampaignError as error:
        return _selection_page(
            criteria, values, errors={"build": str(error)}, replaces=replaces, status=422
        )
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


def _campaign_or_404(campaign_id, *statuses):
    try:
        return recipients.get(current_user, campaign_id, *statuses)
    except campaigns.CampaignError:
        abort(404)


def _skip_label(reason):
    """Why a row of the list is not texted, in words (« pression marketing : déjà 2 SMS
    depuis le 3 mars » says how many and since when)."""
    if reason.startswith(pressure.PRESSURE + ":"):
        return pressure.pressure_text(reason)
    return EXCLUSION_LABELS.get(reason, reason)


def _draft_context(
    campaign,
    *,
    body=None,
    sender_id=None,
    show="pending",
    page=1,
    error=None,
    offer=None,
    when=None,
    body_b=None,
    since=None,
    before=None,
):
    body = campaign.body if body is None else body
    body_b = campaign.body_b if body_b is None else body_b
    moment, now = sending_hours.sending_moment(campaign)
    ab = variants.on(campaign)
    return {
        "campaign": campaign,
        "send_moment": moment,
        "send_now": now,
        "composer": composer.context(
            kind="marketing",
            body=body,
            store_id=campaign.store_id,
            campaign_id=campaign.id,
            variant="A" if ab else "",
        ),
        "ab": ab,
        "composer_b": composer.context(
            kind="marketing",
            body=body_b,
            store_id=campaign.store_id,
            campaign_id=campaign.id,
            variant="B",
            dom_id="composer-b",
        )
        if ab
        else None,
        "split_cost": recipients.split_cost(campaign, body, body_b) if ab else None,
        "split_min": variants.SPLIT_MIN,
        "split_max": variants.SPLIT_MAX,
        "sender_id": campaign.sender_id if sender_id is None else sender_id,
        "summary": recipients.summary(campaign.id),
        "results": recipients.page(campaign.id, show=show, number=page, since=since, before=before),
        "show": show,
        "error": error,
        "offer": offer,
        "when": when or {},
        "test_phone": session.get("test_phone", ""),
        "exclusion_labels": EXCLUSION_LABELS,
        "skip_label": _skip_label,
        "display_phone": phones.display,
        "phone_error": None,
        "phone_row": None,
    }


@bp.get("/<int:campaign_id>")
@role_required("staff")
def show(campaign_id):
    campaign = _campaign_or_404(campaign_id)
    if campaign.status == "draft":
        # The last « Envoyer » came back refused by its preparation: say why.
        return render(
            "campaigns/draft.html",
            **_draft_context(campaign, error=formats.said(campaign.status_note) or None),
        )
    return render("campaigns/show.html", "campaigns/_progress.html", **_status_context(campaign))


def _status_context(campaign):
    counts = campaigns.progress(campaign.id)
    total = sum(counts.values()) - counts["skipped"]
    done = sum(counts[s] for s in ("submitted", "delivered", "failed", "expired", "no_receipt"))
    follow = campaigns.follow_up(campaign, counts)
    return {
        "campaign": campaign,
        "counts": counts,
        "done": done,
        "total": total,
        "follow": follow,
        "status_labels": STATUS_LABELS,
        "credits_reserved": campaigns.cost(campaign.id),
        "two_texts": variants.on(campaign),
        "reserved_variants": variants.reserved(campaign.id)
        if variants.on(campaign) and campaign.status in RESERVED_SHOWN
        else None,
    }


@bp.get("/<int:campaign_id>/progression")
@role_required("staff")
def progress(campaign_id):
    campaign = _campaign_or_404(campaign_id)
    prepared = request.args.get("preparation") and campaign.status != "preparing"
    if (campaign.status == "draft" or prepared) and request.htmx:
        # The preparation is over: the whole page again, with its buttons (« Annuler la
        # programmation »…), or the draft saying why it was refused (credits, hours).
        response = make_response("")
        response.headers["HX-Redirect"] = url_for("campaigns.show", campaign_id=campaign.id)
        return response
    return render("campaigns/show.html", "campaigns/_progress.html", **_status_context(campaign))


@bp.get("/<int:campaign_id>/destinataires")
@role_required("staff")
def recipient_list(campaign_id):
    campaign = _campaign_or_404(campaign_id, "draft")
    show_ = "skipped" if request.args.get("voir") == "exclus" else "pending"
    context = _draft_context(campaign, show=show_, **_where_in_list(request.args))
    return render("campaigns/draft.html", "campaigns/_recipients.html", **context)


def _where_in_list(values):
    """The page of the list asked for: its number, and the place it starts from
    (« depuis ») or the place the page ends before (« avant », for « Précédent »)."""
    return {
        "page": listings.page_number(values.get("page")),
        "since": listings.place(values.get("depuis")),
        "before": listings.place(values.get("avant")),
    }


def _after_row_change(campaign_id, **extra):
    campaign = _campaign_or_404(campaign_id, "draft")
    rows = RowsForm()
    show_ = "skipped" if rows.voir.data == "exclus" else "pending"
    context = _draft_context(campaign, show=show_, **_where_in_list(rows.data)) | extra
    response = make_response(render_template("campaigns/_recipients.html", **context))
    # The composer's cost and the counts follow the list.
    response.headers["HX-Trigger"] = "recipients-changed"
    return response


@bp.post("/<int:campaign_id>/destinataires/<int:message_id>/retirer")
@role_required("staff")
def remove(campaign_id, message_id):
    try:
        recipients.remove(current_user, campaign_id, message_id)
    except campaigns.CampaignError as error:
        return _after_row_change(campaign_id, error=str(error))
    return _after_row_change(campaign_id)


@bp.post("/<int:campaign_id>/destinataires/<int:message_id>/remettre")
@role_required("staff")
def restore(campaign_id, message_id):
    try:
        recipients.restore(current_user, campaign_id, message_id)
    except campaigns.CampaignError as error:
        return _after_row_change(campaign_id, phone_error=str(error), phone_row=message_id)
    return _after_row_change(campaign_id)


@bp.post("/<int:campaign_id>/destinataires/<int:message_id>/telephone")
@role_required("staff")
def correct_phone(campaign_id, message_id):
    form = PhoneForm()
    try:
        recipients.correct_phone(
            current_user,
            campaign_id,
            message_id,
            form.phone.data,
            update_card=form.update_card.data,
        )
    except campaigns.CampaignError as error:
        return _after_row_change(
            campaign_id, phone_error=str(error), phone_row=message_id, phone_typed=form.phone.data
        )
    return _after_row_change(campaign_id)


@bp.post("/<int:campaign_id>/groupe-temoin")
@role_required("staff")
def control_share(campaign_id):
    """« Groupe témoin (%) » of the draft: drawn again at the share typed."""
    raw = ControlShareForm().control_share.data
    try:
        recipients.set_control_share(current_user, campaign_id, raw)
    except campaigns.CampaignError as error:
        if not request.htmx:
            flash(str(error), "error")
            return redirect(url_for("campaigns.show", campaign_id=campaign_id))
        return _after_row_change(campaign_id, control_error=str(error), control_typed=raw[:20])
    if not request.htmx:
        return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    return _after_row_change(campaign_id)


def _typed():
    form = DraftForm()
    return form.body.data, form.sender_id.data


def _typed_b():
    """« Variante B » as posted (None: the screen had one text)."""
    return DraftForm().body_b.data


def _draft_again(campaign, error, *, offer=None, status=422):
    body, sender_id = _typed()
    try:  # the refusal loses nothing: the draft keeps what was typed
        recipients.keep_typed(current_user, campaign.id, body, sender_id, _typed_b())
    except campaigns.CampaignError:
        db.session.rollback()
    form = DraftForm()
    when = {"date": form.date._value(), "time": form.time.data}
    context = _draft_context(
        campaign,
        body=body,
        sender_id=sender_id,
        error=error,
        offer=offer,
        when=when,
        body_b=_typed_b(),
    )
    return render_template("campaigns/draft.html", **context), status


@bp.post("/<int:campaign_id>/brouillon")
@role_required("staff")
def keep(campaign_id):
    """What is typed on a draft, kept as it is typed (htmx, no answer to show)."""
    _campaign_or_404(campaign_id)
    body, sender_id = _typed()
    try:
        recipients.keep_typed(current_user, campaign_id, body, sender_id, _typed_b())
    except campaigns.CampaignError:  # sent or deleted meanwhile: nothing left to keep
        db.session.rollback()
    return "", 204


@bp.post("/<int:campaign_id>/variantes")
@role_required("staff")
def split(campaign_id):
    """« Tester deux textes (A/B) », a new share for « Variante B », or « Revenir à un
    seul texte »: the split drawn again, the texts typed kept; the page again."""
    campaign = _campaign_or_404(campaign_id)
    if campaign.status != "draft":
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    form = DraftForm()
    raw = None
    if form.action.data == "on":
        raw = str(variants.SPLIT_DEFAULT)
    elif form.action.data == "split":
        raw = form.split_b.data
    body, sender_id = _typed()
    try:
        recipients.set_split(
            current_user, campaign.id, raw, body=body, sender_id=sender_id, body_b=_typed_b()
        )
    except campaigns.CampaignError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#ab-texts")


@bp.post("/<int:campaign_id>/cout-ab")
@role_required("staff")
def split_cost(campaign_id):
    """The A/B campaign's cost per variant and in total, as the two texts are typed."""
    campaign = _campaign_or_404(campaign_id, "draft")
    if not variants.on(campaign):
        return "", 204
    form = DraftForm()
    cost = recipients.split_cost(campaign, form.body.data, form.body_b.data or "")
    return render_template("campaigns/_split_cost.html", campaign=campaign, split_cost=cost)


@bp.post("/<int:campaign_id>/criteres")
@role_required("staff")
def change_criteria(campaign_id):
    """« Modifier les critères de sélection »: the text typed so far goes with the draft,
    then back to its criteria."""
    campaign = _campaign_or_404(campaign_id)
    if campaign.status != "draft":
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    body, sender_id = _typed()
    try:
        recipients.keep_typed(current_user, campaign_id, body, sender_id, _typed_b())
    except campaigns.CampaignError:
        db.session.rollback()
    return redirect(url_for("campaigns.new", depuis=campaign.id))


@bp.post("/<int:campaign_id>/envoyer")
@role_required("staff")
def send(campaign_id):
    """« Envoyer »: now, or — outside sending hours — at the time the screen offered."""
    campaign = _campaign_or_404(campaign_id)
    if campaign.status != "draft":
        flash(gettext("Cette campagne est déjà partie ou programmée."), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    body, sender_id = _typed()
    try:
        sent = recipients.send(
            current_user,
            campaign.id,
            body,
            sender_id,
            accept_next=DraftForm().accept_next.data == "1",
            body_b=_typed_b(),
        )
    except sending_hours.OutsideSendingHours as error:
        return _draft_again(campaign, str(error), offer=error.next_allowed, status=200)
    except (campaigns.CampaignError, credits.NotEnoughCredits) as error:
        return _after_failed_send(campaign, str(error))
    if getattr(sent, "queue_down", False):
        flash(
            gettext(
                "Campagne enregistrée : la file d'envoi est momentanément indisponible, "
                "les SMS partiront dès son retour."
            ),
            "info",
        )
    else:
        flash(
            gettext(
                "Envoi en préparation : les SMS partent dès qu'il est prêt. Vous pouvez "
                "quitter cette page."
            ),
            "success",
        )
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


def _after_failed_send(campaign, error):
    db.session.expire_all()
    if db.session.get(type(campaign), campaign.id).status != "draft":
        # Another click (or tab) sent or scheduled it meanwhile.
        flash(error, "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return _draft_again(campaign, error)


def _when_from(form):
    """The day (inputs.read_date, through DayField) and the time of « Envoi différé »."""
    try:
        if form.date.data is None:
            raise ValueError
        moment = time.fromisoformat(form.time.data)
    except ValueError:
        raise campaigns.CampaignError(
            _l("Envoi différé : précisez la date et l'heure de l'envoi (jj/mm/aaaa, hh:mm).")
        ) from None
    return datetime.combine(form.date.data, moment)


@bp.post("/<int:campaign_id>/differer")
@role_required("staff")
def defer(campaign_id):
    """« Envoi différé »: at a date and time in the future (Europe/Paris)."""
    campaign = _campaign_or_404(campaign_id)
    was_scheduled = campaign.status == "scheduled"
    body, sender_id = _typed()
    try:
        campaign = recipients.defer(
            current_user, campaign.id, body, sender_id, _when_from(DraftForm()), body_b=_typed_b()
        )
    except (campaigns.CampaignError, credits.NotEnoughCredits) as error:
        db.session.rollback()
        if was_scheduled:
            flash(str(error), "error")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
        return _after_failed_send(campaign, str(error))
    when = campaign.scheduled_at
    if campaign.status == "preparing":
        flash(
            gettext(
                "Envoi différé en préparation : il sera programmé le %(when)s.",
                when=formats.when(when),
            ),
            "success",
        )
    else:
        flash(gettext("Campagne programmée le %(when)s.", when=formats.when(when)), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


@bp.post("/<int:campaign_id>/annuler")
@role_required("staff")
def cancel(campaign_id):
    """« Annuler la programmation » (back to draft, credits back) or « Annuler l'envoi »
    (a scheduled campaign or one going out stops for good)."""
    campaign = _campaign_or_404(campaign_id)
    try:
        if campaign.status == "scheduled" and DraftForm().action.data != "stop":
            recipients.unschedule(current_user, campaign.id)
            flash(
                gettext(
                    "Programmation annulée : les crédits réservés sont rendus. La campagne "
                    "est de nouveau un brouillon."
                ),
                "success",
            )
        else:
            recipients.cancel(current_user, campaign.id)
            flash(gettext("Envoi annulé : les SMS non partis ne partiront pas."), "success")
    except campaigns.CampaignError as error:
        flash(str(error), "error")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


@bp.post("/<int:campaign_id>/quitter")
@role_required("staff")
def quit_draft(campaign_id):
    """« Quitter » a draft: it is dropped with its list (nothing was sent)."""
    try:
        recipients.quit_draft(current_user, campaign_id)
    except campaigns.CampaignError:
        db.session.rollback()
    return redirect(url_for("campaigns.index"))


@bp.post("/<int:campaign_id>/test")
@role_required("staff")
def test_sms(campaign_id):
    """« Envoyer un SMS de test » to one's own mobile, worded for the first recipient."""
    campaign = _campaign_or_404(campaign_id, "draft")
    form = DraftForm()
    raw = form.test_phone.data
    try:
        number = recipients.send_test(
            current_user,
            campaign.id,
            raw,
            form.body.data,
            form.sender_id.data,
            body_b=form.body_b.data,
        )
        session["test_phone"] = raw
        message = gettext("SMS de test envoyé au %(phone)s.", phone=phones.display(number))
        ok = True
    except (campaigns.CampaignError, credits.NotEnoughCredits) as error:
        message, ok = str(error), False
    return render_template("campaigns/_test_result.html", message=message, ok=ok)
