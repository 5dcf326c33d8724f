"""The SMS composer that every sending screen includes, and « Messages enregistrés ».

A screen includes it in its form with one line, `{% include "composer/_composer.html" %}`,
after passing `composer=composer.context(kind=..., body=..., client_ids=...)` to its
template. The composer's own requests (counter, replace, saved messages) carry its
hidden fields, so they work whatever the including form holds.
"""

import re

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access
from ..models import CAMPAIGN_KINDS
from ..services import campaigns, costing, recipients, repair_notices, repairs, saved_messages
from ..sms import encoding, stop
from .access import role_required
from .forms import CheckField, Form, IdField, IdListField, TextField
from .helpers import render

bp = Blueprint("composer", __name__)

# "service": a message written for no sending in particular (the saved messages page).
KINDS = ("service", *CAMPAIGN_KINDS)
SAVED_MODES = ("dialog", "inline")
_DOM_ID_RE = re.compile(r"[a-z][a-z0-9_-]{0,39}")

# The expressions' descriptions live in the SMS core, which knows nothing of Flask;
# they are repeated here, word for word (a test checks it), for the translation catalogue.
PLACEHOLDER_HELP = {
    "<GEN>": _l("Civilité en toutes lettres (Madame, Monsieur)"),
    "<CIV>": _l("Civilité abrégée (Mme, M., Mlle)"),
    "<NOM>": _l("Civilité abrégée, prénom et nom tels que sur la fiche client"),
    "<NOMPROPRE>": _l("Nom de famille, majuscule initiale"),
    "<PRENOM>": _l("Prénom, majuscule initiale"),
    "<MAGASIN>": _l("Nom du magasin"),
    "<NUM>": _l("Numéro de la fiche SAV"),
    "<MONTANT>": _l("Montant restant dû"),
}


def context(
    *,
    kind="service",
    body="",
    client_ids=(),
    store_id=None,
    add_stop=None,
    dom_id="composer",
    saved="dialog",
    notice=None,
    autofocus=False,
    campaign_id=None,
    ticket_ids=(),
    pristine=None,
    variant="",
):
    """What _composer.html needs. `saved` is "dialog" (a button opens the saved messages)
    or "inline" (a side panel, with F2 to save: the saved messages page). `campaign_id`:
    a draft campaign whose recipients the cost is computed on (instead of client_ids).
    `ticket_ids`: repair tickets whose clients the cost is computed on, each with its
    ticket's number and amount (the SAV screen posts them with each request).
    `pristine`: the text the screen proposed (a default message, a saved setting): Esc
    asks « Abandonner le message ? » once the text differs from it (None: any text).
    `variant`: "A" or "B", one text of an A/B campaign, costed on its own recipients and
    posted as `body` (A) or `body_b` (B)."""
    composer = _core(
        kind, body, client_ids, store_id, add_stop, dom_id, saved, campaign_id, ticket_ids, variant
    )
    composer.update(
        placeholders=[
            (p, PLACEHOLDER_HELP.get(p.tag, p.description))
            for p in costing.placeholders_for(composer["kind"])
        ],
        saved_area=saved_area(),
        notice=notice,
        autofocus=autofocus,
        pristine=pristine,
    )
    return composer


VARIANTS = ("A", "B")
# The field each text of an A/B campaign is posted in (the including form sends both).
VARIANT_FIELDS = {"": "body", "A": "body", "B": "body_b"}


def _core(
    kind,
    body,
    client_ids,
    store_id,
    add_stop,
    dom_id,
    saved,
    campaign_id=None,
    ticket_ids=(),
    variant="",
):
    """What the counter (_preview.html) needs."""
    variant = variant if variant in VARIANTS and campaign_id is not None else ""
    kind = kind if kind in KINDS else "service"
    forced = stop.required(kind)
    add_stop = stop.applies(kind, add_stop)
    store_id = _store_for(store_id)
    client_ids = list(client_ids)
    gsm_names = False
    if campaign_id is not None:
        try:
            gsm_names = recipients.get(current_user, campaign_id).gsm_names
        except campaigns.CampaignError:
            abort(404)
        client_ids = []
    contexts = _ticket_contexts(ticket_ids) if ticket_ids else None
    return {
        "id": dom_id if _DOM_ID_RE.fullmatch(dom_id or "") else "composer",
        "kind": kind,
        "body": body,
        "add_stop": add_stop,
        "stop_forced": forced,
        "client_ids": client_ids,
        "campaign_id": campaign_id,
        "variant": variant,
        "field": VARIANT_FIELDS[variant],
        "store_id": store_id,
        "saved": saved if saved in SAVED_MODES else "dialog",
        "preview": costing.preview(
            body,
            add_stop=add_stop,
            store_id=store_id,
            client_ids=client_ids,
            campaign_id=campaign_id,
            variant=variant,
            contexts=contexts,
            gsm_names=gsm_names,
        ),
        "gsm_names": gsm_names,
        "always_empty": costing.always_empty(body, kind),
        "example_name": costing.EXAMPLE_NAME,
        "char_label": char_label,
    }


def _ticket_contexts(ticket_ids):
    """The placeholder contexts of the tickets' clients who can receive an SMS, as the SAV
    screen's ticket list renders them (the tickets the person may act on)."""
    visible = repairs.visible_ids(current_user, ticket_ids)
    return [target.context for target in repair_notices.targets(visible) if target.reachable]


def char_label(char):
    """How to show a character that forced Unicode: itself, or its code when invisible
    (a no-break space pasted from a word processor looks like any space)."""
    if char.isprintable() and not char.isspace():
        return char
    return f"U+{ord(char):04X}"


def saved_area(*, name="", shared=False, status=None, error=None, duplicate=None):
    """What _saved.html needs: the save form's state and the list of saved messages."""
    messages = saved_messages.list_for(current_user)
    return {
        "messages": messages,
        "store_names": saved_messages.store_names(messages),
        "name": name,
        "shared": shared or _share_forced(),
        "can_share": access.has(current_user, "share_messages"),
        "share_forced": _share_forced(),
        "status": status,
        "error": error,
        "duplicate": duplicate,
        "can_change": lambda template: saved_messages.can_change(current_user, template),
    }


def _share_forced():
    # Head office without a store of its own writes for the whole chain.
    return access.has(current_user, "share_messages") and current_user.store_id is None


def _store_for(requested):
    """The store whose settings and name apply: one's own, any for head office."""
    if access.every_store(current_user):
        return requested if requested is not None else current_user.store_id
    return current_user.store_id


class ComposerForm(Form):
    """The composer's fields, as its hidden inputs post them (at each pause in the typing:
    only these)."""

    kind = TextField(strip=False, default="service")
    body = TextField(strip=False)
    body_b = TextField(strip=False)
    variant = TextField(strip=False)
    client_id = IdListField()
    store_id = IdField()
    add_stop = CheckField()
    composer_id = TextField(strip=False, default="composer")
    composer_saved = TextField(strip=False, default="dialog")
    campaign_id = IdField()
    ticket_id = IdListField()


class GsmNamesForm(ComposerForm):
    gsm_names = TextField()


class SaveForm(ComposerForm):
    """« Sauvegarder le message en cours »."""

    save_name = TextField(strip=False)
    save_shared = CheckField()
    replace = TextField()


def _posted(form=None):
    """What _core and context take, from the composer's posted fields."""
    form = form or ComposerForm()
    variant = form.variant.data
    return {
        "kind": form.kind.data,
        "body": form[VARIANT_FIELDS.get(variant, "body")].data,
        "variant": variant,
        "client_ids": form.client_id.data,
        "store_id": form.store_id.data,
        "add_stop": form.add_stop.data,
        "dom_id": form.composer_id.data,
        "saved": form.composer_saved.data,
        "campaign_id": form.campaign_id.data,
        "ticket_ids": form.ticket_id.data[:2000],
    }


def _parts(count):
    return gettext("%(num)d SMS", num=count)


@bp.get("/messages")
@role_required("staff")
def messages():
    """« Messages enregistrés »: write, save, open and delete saved messages."""
    body = ""
    opened = request.args.get("message", type=int)
    area = {}
    if opened is not None:
        try:
            template = saved_messages.get(current_user, opened)
            body, area = template.body, {"name": template.name}
        except saved_messages.SavedMessageError as error:
            area = {"error": str(error)}
    composer = context(body=body, saved="inline", autofocus=True)
    if area:
        composer["saved_area"] = saved_area(**area)
    return render("composer/messages.html", composer=composer)


@bp.post("/composer/apercu")
@role_required("staff")
def preview():
    """The counter, warnings and cost, refreshed as the person types."""
    return render_template("composer/_preview.html", composer=_core(**_posted()))


@bp.post("/composer/remplacer")
@role_required("staff")
def replace():
    """« Remplacer les caractères spéciaux »: the whole composer, with the new text."""
    posted = _posted()
    before = _core(**posted)["preview"].analysis.segments
    posted["body"] = encoding.to_gsm(posted["body"])
    composer = context(**posted)
    after = composer["preview"].analysis.segments
    composer["notice"] = gettext(
        "Caractères spéciaux remplacés : %(before)s → %(after)s.",
        before=_parts(before),
        after=_parts(after),
    )
    composer["focus"] = True
    # A screen that shows the texts elsewhere too (the SAV's ticket list) refreshes them.
    return (
        render_template("composer/_composer.html", composer=composer),
        {"HX-Trigger-After-Settle": "composer-replaced"},
    )


@bp.post("/composer/noms-gsm")
@role_required("staff")
def gsm_names():
    """« Écrire les noms sans accents dans ce SMS » (or back): a campaign's choice, kept
    with its draft; the whole composer comes back with the cost it gives."""
    form = GsmNamesForm()
    posted = _posted(form)
    if posted["campaign_id"] is None:
        abort(404)
    try:
        recipients.set_gsm_names(current_user, posted["campaign_id"], form.gsm_names.data == "1")
    except campaigns.CampaignError:
        abort(404)
    return render_template("composer/_composer.html", composer=context(**posted))


@bp.post("/composer/messages")
@role_required("staff")
def save():
    """« Sauvegarder le message en cours »."""
    form = SaveForm()
    posted = _posted(form)
    name, shared = form.save_name.data, form.save_shared.data
    try:
        template = saved_messages.save(
            current_user, name, posted["body"], shared=shared, replace=form.replace.data == "1"
        )
    except saved_messages.DuplicateName as error:
        area = saved_area(name=name, shared=shared, error=str(error), duplicate=error.existing)
    except saved_messages.NotAllowed:
        abort(403)
    except saved_messages.SavedMessageError as error:
        area = saved_area(name=name, shared=shared, error=str(error))
    else:
        status = gettext("Message « %(name)s » enregistré.", name=template.name)
        area = saved_area(name=template.name, shared=template.store_id is None, status=status)
    return _render_saved(posted, area)


@bp.post("/composer/messages/<int:template_id>/supprimer")
@role_required("staff")
def delete(template_id):
    posted = _posted()
    try:
        template = saved_messages.delete(current_user, template_id)
    except saved_messages.NotAllowed:
        abort(403)
    except saved_messages.SavedMessageError as error:
        area = saved_area(error=str(error))
    else:
        area = saved_area(status=gettext("Message « %(name)s » supprimé.", name=template.name))
    return _render_saved(posted, area)


def _render_saved(posted, area):
    composer = {
        "id": posted["dom_id"] if _DOM_ID_RE.fullmatch(posted["dom_id"] or "") else "composer",
        "saved": posted["saved"] if posted["saved"] in SAVED_MODES else "dialog",
        "saved_area": area,
    }
    return render_template("composer/_saved.html", composer=composer)
