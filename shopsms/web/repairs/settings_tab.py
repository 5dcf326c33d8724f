"""« Paramètres de fonctionnement, onglet SAV »: the store's values for a manager, the
chain's for head office. A store keeps following the chain for what it leaves as is."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ... import access
from ...services import repair_notices
from .. import composer
from ..access import role_required
from ..forms import Form, TextField
from . import MODE_LABELS, bp

# The form's field names → the settings they set.
FIELDS = {
    "mode": "workshop_return_mode",
    "body": "workshop_return_message",
    "days": "repair_reminder_days",
    "reminder_body": "repair_reminder_message",
}


class SettingsForm(Form):
    """Kept as typed: repair_notices.clean_settings reads the days and checks the texts."""

    mode = TextField(strip=False)
    body = TextField(strip=False)
    days = TextField(strip=False)
    reminder_body = TextField(strip=False)


@bp.route("/parametres", methods=["GET", "POST"], endpoint="settings")
@role_required("manager")
def settings_tab():
    store_id = access.store_scope(current_user)
    stored = repair_notices.current_settings(store_id)
    values = {name: stored[key] for name, key in FIELDS.items()}
    errors = {}
    if request.method == "POST":
        form = SettingsForm()
        posted = {key: form[name].data for name, key in FIELDS.items()}
        cleaned, problems = repair_notices.clean_settings(posted, store_id)
        values = {name: posted[key] for name, key in FIELDS.items()}
        values["body"] = cleaned["workshop_return_message"]
        values["reminder_body"] = cleaned["repair_reminder_message"]
        errors = {name: problems[key] for name, key in FIELDS.items() if key in problems}
        if not errors:
            changed = repair_notices.save_settings(cleaned, user=current_user, store_id=store_id)
            flash(
                _("Paramètres SAV enregistrés.") if changed else _("Aucune modification."),
                "success",
            )
            return redirect(url_for("repairs.settings"))
    page = render_template(
        "repairs/settings.html",
        values=values,
        errors=errors,
        mode_labels=MODE_LABELS,
        composer=composer.context(
            kind="workshop_return",
            body=values["body"],
            store_id=store_id,
            dom_id="sav-settings",
            pristine=stored["workshop_return_message"],  # typed changes are asked about
        ),
    )
    return page, 422 if errors else 200
