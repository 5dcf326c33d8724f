"""« Paramètres > Magasins »: « Activer le module SMS » store by store, and the
« Liaison plate-forme de services » with its entity."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...services import listings, settings, settings_forms
from ..access import role_required
from ..helpers import render
from . import bp


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
            entity_max=settings_forms.PLATFORM_ENTITY_MAX,
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
    saved = settings_forms.save_stores(current_user, listings.stores(current_user), request.form)
    if not saved.ok:
        return _page(saved.form, saved.errors, status=400)
    flash(_("Paramètres enregistrés.") if saved.changed else _("Aucune modification."), "success")
    return redirect(url_for("settings.stores"))
