"""« Paramètres > Magasins »: « Activer le module SMS » store by store, and the
« Liaison plate-forme de services » with its entity."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...services import listings, settings
from ...services.settings_rules import PLATFORM_ENTITY_MAX
from ..access import role_required
from ..helpers import render
from . import bp
from .forms import StoresForm


def _page(form=None, errors=None, status=200):
    stores = listings.stores(current_user)
    values = settings.get_many(["platform_link", "platform_entity"])
    enabled = {store.id for store in stores if store.sms_enabled}
    if form:
        values = {key: form[key] for key in ("platform_link", "platform_entity")}
        enabled = form["sms_enabled"]
    return (
        render(
            "settings/stores.html",
            active="magasins",
            stores=stores,
            values=values,
            enabled=enabled,
            errors=errors or {},
            entity_max=PLATFORM_ENTITY_MAX,
        ),
        status,
    )


@bp.get("/magasins")
@role_required("admin")
def stores():
    return _page()


@bp.post("/magasins")
@role_required("admin")
def save_stores():
    form = StoresForm()
    if not form.validate():
        return _page(form.typed(), form.field_errors(), status=400)
    changed = settings.save_stores(
        set(form.sms_enabled.data),
        stores=listings.stores(current_user),
        platform_link=form.platform_link.cleaned,
        platform_entity=form.platform_entity.cleaned,
        user=current_user,
    )
    flash(_("Paramètres enregistrés.") if changed else _("Aucune modification."), "success")
    return redirect(url_for("settings.stores"))
