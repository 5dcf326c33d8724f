"""The web layer: one blueprint per area, shared error handling and navigation."""

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from .. import formats, gateways
from ..access import Capabilities
from ..sms import phones
from . import (
    access,
    api,
    auth,
    automatic,
    campaigns,
    clients,
    composer,
    credits,
    guard,
    headers,
    health,
    home,
    hooks,
    i18n,
    integration,
    outbox,
    redirects,
    repairs,
    replies,
    reports,
    results,
    settings,
    supervision,
)

# The product's navigation; an area shows once its blueprint is registered and its
# page lets the person in (access.may_open), so a menu never leads to a page that is
# not there or answers 403.
NAVIGATION = (
    (lazy_gettext("Clients"), "clients.index"),
    (lazy_gettext("Campagnes"), "campaigns.index"),
    (lazy_gettext("SAV"), "repairs.index"),
    (lazy_gettext("Rapports"), "reports.index"),
    (lazy_gettext("Résultats"), "results.index"),
    (lazy_gettext("Crédits"), "credits.index"),
    (lazy_gettext("Import"), "integration.imports"),
    (lazy_gettext("Paramètres"), "settings.index"),
)

# What a message's state means to a person reading a report or the test phone.
STATE_LABELS = {
    "pending": lazy_gettext("En attente"),
    "submitting": lazy_gettext("En cours d'envoi"),
    "submitted": lazy_gettext("Envoyé"),
    "delivered": lazy_gettext("Délivré"),
    "failed": lazy_gettext("Échec"),
    "expired": lazy_gettext("Expiré"),
    "no_receipt": lazy_gettext("Sans accusé de réception"),
    "skipped": lazy_gettext("Non envoyé"),
}

ROLE_LABELS = {
    "staff": lazy_gettext("Vendeur"),
    "manager": lazy_gettext("Gérant"),
    "admin": lazy_gettext("Siège"),
}


def init_app(app):
    guard.init_app(app)  # first: its URL converter must be there when the rules are added
    for module in (
        auth,
        home,
        i18n,
        composer,
        outbox,
        hooks,
        clients,
        campaigns,
        automatic,
        repairs,
        reports,
        results,
        credits,
        settings,
        replies,
        integration,
        api,
        health,
        supervision,
    ):
        app.register_blueprint(module.bp)
    app.before_request(access.require_login)
    app.after_request(_vary_on_htmx)
    headers.init_app(app)
    app.register_error_handler(CSRFError, _csrf_error)
    for code in (403, 404, 405, 500):
        app.register_error_handler(code, _error_page)
    app.context_processor(_layout_context)
    # Templates ask current_app.view_functions whether another area's page exists yet.
    app.jinja_env.globals["current_app"] = current_app
    app.jinja_env.filters["phone"] = phones.display
    formats.install(app)


class _Simulation:
    """« Mode simulation », read only when a template asks (a partial does not) and at
    most once per request: the gateway head office chose in « Paramètres », else
    SMS_GATEWAY."""

    def __bool__(self):
        if "simulation" not in g:
            g.simulation = gateways.active_name() == "outbox"
        return g.simulation


_SIMULATION = _Simulation()


def _layout_context():
    user = current_user if current_user.is_authenticated else None
    can = Capabilities(user)
    return {
        "navigation": [(label, endpoint) for label, endpoint in NAVIGATION if can.open(endpoint)],
        "can": can,
        "current_locale": str(get_locale()),
        "role_labels": ROLE_LABELS,
        "state_labels": STATE_LABELS,
        "simulation": _SIMULATION,
    }


def _vary_on_htmx(response):
    # The same URL answers a page or a partial: caches must keep them apart.
    response.vary.add("HX-Request")
    return response


def _csrf_error(error):
    if request.htmx:
        # htmx cannot recover a stale token by itself: reload the page for a fresh one.
        return "", 400, {"HX-Refresh": "true"}
    flash(lazy_gettext("La page avait expiré : recommencez, s'il vous plaît."), "warning")
    return redirect(redirects.back_to_referrer(request, url_for("home.index")))


def _error_page(error):
    code = getattr(error, "code", 500)
    prefix = api.bp.url_prefix
    if request.path == prefix or request.path.startswith(prefix + "/"):
        # An address the router refused before reaching the API (a line break in it,
        # say): the client still gets the API's JSON, not a page.
        return api._http_error(error)
    if code == 405:
        return error  # a form posted to a page that only shows: Werkzeug's answer
    return render_template("errors/error.html", code=code), code
