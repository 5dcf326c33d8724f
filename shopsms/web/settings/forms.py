"""The « Paramètres » tabs' forms. Each field is checked by its setting's own rule
(services/settings_rules.clean: what a job, the CLI or the API is told too); nothing is
saved unless every field is right, and the page then shows what was typed with a
message under each wrong field. services/settings.py writes what was checked."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import StopValidation

from ... import inputs
from ...services import settings
from ..forms import CheckField, Form, IdListField, TextField

# The general tab: what head office sets for the chain; a store holds its own value for
# those of them that are settings.STORE_KEYS.
GENERAL_KEYS = (
    "sender_id",
    "stop_short_code",
    "sending_days",
    "sending_start",
    "sending_end",
    "max_parts",
    "low_credit_threshold",
    "topup_email",
    "control_share",
    "attribution_days",
    "pressure_max",
    "pressure_days",
    "receipt_wait_hours",
)
# Campaign results and « pression marketing » (issue 21), the wait for receipts (issue 18):
# a form from before these settings keeps them as they are.
RESULTS_KEYS = (
    "control_share",
    "attribution_days",
    "pressure_max",
    "pressure_days",
    "receipt_wait_hours",
)
GATEWAY_TEXT_KEYS = (
    "kannel_sendsms_url",
    "kannel_username",
    "kannel_smsc",
    "smpp_host",
    "smpp_port",
    "smpp_system_id",
    "smpp_system_type",
)
SECRET_NOT_SAVED = _l("Mot de passe non enregistré : saisissez-le de nouveau.")
ABSENT = object()  # a field the form did not post: its setting stays as it is


def general_keys(store):
    """The general tab's settings: all of them for the chain, a store's own ones for a store."""
    if store is None:
        return GENERAL_KEYS
    return tuple(key for key in GENERAL_KEYS if key in settings.STORE_KEYS)


class Rule:
    """Checks a field by its setting's rule; the value to store goes in `field.cleaned`.
    `if_posted`: a field missing from the post keeps its setting (ABSENT)."""

    def __init__(self, *, if_posted=False):
        self.if_posted = if_posted

    def __call__(self, form, field):
        field.cleaned = ABSENT
        if self.if_posted and not field.raw_data:
            raise StopValidation()
        value, error = self.clean(field)
        if error:
            raise StopValidation(error)
        field.cleaned = value

    def clean(self, field):
        return settings.clean(field.name, field.data)


class Rate(Rule):
    """One gateway's pace (« batch_size_kannel »…), by settings_rules.clean_rate."""

    def __init__(self, key, gateway):
        super().__init__()
        self.key, self.gateway = key, gateway

    def clean(self, field):
        return settings.clean_rate(self.key, self.gateway, field.data)


class DaysField(StringField):
    """The days ticked (0 Monday … 6 Sunday): those that are numbers; the rule says
    whether they are days."""

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        self.data = inputs.ids(valuelist)


class GeneralForm(Form):
    """The general tab, for the chain or one store (its own values only)."""

    sender_id = TextField(validators=[Rule()])
    stop_short_code = TextField(validators=[Rule()])
    sending_days = DaysField(validators=[Rule()])
    sending_start = TextField(validators=[Rule()])
    sending_end = TextField(validators=[Rule()])
    max_parts = TextField(validators=[Rule()])
    low_credit_threshold = TextField(validators=[Rule()])
    topup_email = TextField(validators=[Rule()])
    control_share = TextField(validators=[Rule(if_posted=True)])
    attribution_days = TextField(validators=[Rule(if_posted=True)])
    pressure_max = TextField(validators=[Rule(if_posted=True)])
    pressure_days = TextField(validators=[Rule(if_posted=True)])
    receipt_wait_hours = TextField(validators=[Rule(if_posted=True)])

    def __init__(self, store, **kwargs):
        super().__init__(**kwargs)
        self.keys = general_keys(store)
        for key in GENERAL_KEYS:
            if key not in self.keys:
                del self[key]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        start, end = self._fields.get("sending_start"), self._fields.get("sending_end")
        if start is not None and end is not None and not (start.errors or end.errors):
            error = settings.check_window(start.cleaned, end.cleaned)
            if error:
                end.errors.append(error)
                ok = False
        return ok

    def values(self):
        """The checked values to save."""
        return {key: self[key].cleaned for key in self.keys if self[key].cleaned is not ABSENT}

    def typed(self):
        """What was typed, to show again (a setting not posted shows its value in force)."""
        return {
            key: self[key].data
            for key in self.keys
            if key not in RESULTS_KEYS or self[key].raw_data
        }


class GatewayForm(Form):
    """« Passerelle »: the gateway, its credentials, its pace (one field per setting and
    gateway, added below), the secrets and their « Effacer » boxes."""

    gateway = TextField(validators=[Rule()])
    kannel_sendsms_url = TextField(validators=[Rule()])
    kannel_username = TextField(validators=[Rule()])
    kannel_smsc = TextField(validators=[Rule()])
    smpp_host = TextField(validators=[Rule()])
    smpp_port = TextField(validators=[Rule()])
    smpp_system_id = TextField(validators=[Rule()])
    smpp_system_type = TextField(validators=[Rule()])
    kannel_password = TextField(strip=False)
    smpp_password = TextField(strip=False)
    kannel_password_clear = CheckField()
    smpp_password_clear = CheckField()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if not ok:
            # A password field is never filled back in: say to type it again.
            for key in sorted(settings.SECRETS):
                if self[key].data:
                    self[key].errors.append(SECRET_NOT_SAVED)
        return ok

    def values(self):
        values = {key: self[key].cleaned for key in ("gateway", *GATEWAY_TEXT_KEYS)}
        for key in settings.RATES:
            values[key] = {name: self[f"{key}_{name}"].cleaned for name in settings.GATEWAYS}
        return values

    def secrets(self):
        return {key: self[key].data for key in sorted(settings.SECRETS)}

    def clear(self):
        return {key for key in settings.SECRETS if self[f"{key}_clear"].data}

    def typed(self):
        typed = {key: self[key].data for key in ("gateway", *GATEWAY_TEXT_KEYS)}
        for key in settings.RATES:
            fields = {name: self[f"{key}_{name}"] for name in settings.GATEWAYS}
            typed[key] = {
                name: field.data if getattr(field, "cleaned", ABSENT) is ABSENT else field.cleaned
                for name, field in fields.items()
            }
        typed["clear"] = self.clear()
        return typed


for _key in settings.RATES:
    for _name in settings.GATEWAYS:
        setattr(GatewayForm, f"{_key}_{_name}", TextField(validators=[Rate(_key, _name)]))


class StoresForm(Form):
    """« Magasins »: the stores whose SMS module is on, the « Liaison plate-forme »."""

    platform_link = TextField(validators=[Rule()])
    platform_entity = TextField(validators=[Rule()])
    sms_enabled = IdListField()

    def typed(self):
        return {
            "platform_link": self.platform_link.data in ("1", "on"),
            "platform_entity": self.platform_entity.data,
            "sms_enabled": set(self.sms_enabled.data),
        }
