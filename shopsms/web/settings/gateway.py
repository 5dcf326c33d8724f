"""« Paramètres > Passerelle »: the gateway in service, its credentials, its pace, and a
test SMS. A stored secret never comes back into the page: it shows as set or not."""

from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...gateways import active_name, settings_config
from ...services import gateway_test, settings
from ..access import role_required
from ..forms import Form, TextField
from ..helpers import render
from . import GATEWAY_LABELS, GATEWAYS, bp, public_values
from .forms import GATEWAY_TEXT_KEYS, GatewayForm


def _page(form=None, errors=None, status=200, test_result=None):
    values = public_values()
    config = settings_config()
    shown = {key: values[key] for key in GATEWAY_TEXT_KEYS}
    shown["gateway"] = values["gateway"] or current_app.config["SMS_GATEWAY"]
    # What is in force when a field is left empty: the deployment's configuration.
    fallback = {key: config.get(settings.CONFIG_KEYS[key], "") for key in GATEWAY_TEXT_KEYS}
    form = form or {}
    shown.update({key: value for key, value in form.items() if key in shown})
    stored = settings.get_many(sorted(settings.SECRETS))  # only whether each one is set
    return (
        render(
            "settings/gateway.html",
            active="passerelle",
            shown=shown,
            fallback=fallback,
            secrets_set={
                key: bool(stored[key]) or bool(config.get(settings.CONFIG_KEYS[key]))
                for key in settings.SECRETS
            },
            secrets_stored={key: bool(stored[key]) for key in settings.SECRETS},
            clear=form.get("clear", set()),
            batch_size=form.get("batch_size", values["batch_size"]),
            messages_per_second=form.get("messages_per_second", values["messages_per_second"]),
            errors=errors or {},
            gateways=GATEWAYS,
            gateway_labels=GATEWAY_LABELS,
            in_service=active_name(),
            test_result=test_result,
        ),
        status,
    )


@bp.get("/passerelle")
@role_required("admin")
def gateway():
    return _page()


@bp.post("/passerelle")
@role_required("admin")
def save_gateway():
    form = GatewayForm()
    if not form.validate():
        return _page(form.typed(), form.field_errors(), status=400)
    changed = settings.save_gateway(
        form.values(),
        secrets=form.secrets(),
        clear=form.clear(),
        in_service=active_name(),
        user=current_user,
    )
    flash(_("Paramètres enregistrés.") if changed else _("Aucune modification."), "success")
    return redirect(url_for("settings.gateway"))


class GatewayTestForm(Form):
    phone = TextField()


@bp.post("/passerelle/test")
@role_required("admin")
def send_test():
    result = gateway_test.send(GatewayTestForm().phone.data, user=current_user)
    return _page(status=200 if result.ok else 400, test_result=result)
