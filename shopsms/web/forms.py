"""The one form convention of the screens: a FlaskForm per form (in its blueprint's
forms.py, or beside its view), whose fields turn what was typed into values with the one
reading of inputs.py (amounts, days, ids) and say in French what to type; the
services then check the rules and their messages go on the same fields. Pages mark the
field in error with templates/_forms.html.

A form only parses: whether an amount may be negative, a day in the past or a number
above a limit is the service's to say."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from .. import formats, inputs


class Form(FlaskForm):
    """A posted form. `fail` puts a service's {field name: message} on the fields."""

    class Meta:
        def get_translations(self, form):
            # Every message shown is ours (lazy strings, in the catalogue); WTForms' own
            # catalogue looked up for each field would cost a third of a form's making,
            # paid by the composer at each pause in the typing.
            return None

    def fail(self, errors):
        for name, message in errors.items():
            field = self._fields.get(name)
            if field is not None:
                field.errors = [*field.errors, str(message)]
            else:
                self.form_errors.append(str(message))
        return self

    def field_errors(self):
        """{field name: its first message} for what was mistyped (the CSRF token aside:
        its refusal is the page's, not a field's)."""
        return {
            name: field.errors[0]
            for name, field in self._fields.items()
            if field.errors and name != "csrf_token"
        }


class TextField(StringField):
    """Text as typed, never None (« » when the field was not posted); `strip` trims it,
    `max_length` cuts it (the column's width: longer text is not an error worth a round
    trip where the service already refuses what matters)."""

    def __init__(self, label=None, validators=None, *, strip=True, max_length=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.strip, self.max_length = strip, max_length

    def process_data(self, value):
        self.data = "" if value is None else value

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        value = valuelist[0]
        if self.strip:
            value = value.strip()
        self.data = value[: self.max_length] if self.max_length else value

    def _value(self):
        return self.data or ""


class _ReadField(StringField):
    """A field read by one of inputs.py's readers; what was typed is shown back as typed."""

    default_message = _l("%(label)s : valeur illisible.")

    def __init__(self, label=None, validators=None, *, message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message or self.default_message

    def read(self, raw):
        raise NotImplementedError

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        try:
            self.data = self.read(valuelist[0])
        except ValueError as error:
            raise ValueError(self.say(error)) from None

    def say(self, error):
        return str(self.message) % {"label": self.label.text}

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.shown(self.data) if self.data is not None else ""

    def shown(self, value):
        return str(value)


class AmountField(_ReadField):
    """A euro amount read by inputs.read_amount (« 12,50 € », « 1 234,50 », « 1.234,50 »):
    a Decimal with two decimals, or None when nothing was typed."""

    default_message = _l("%(label)s : tapez un montant, par exemple 150 ou 99,90.")

    def read(self, raw):
        return inputs.read_amount(raw)

    def shown(self, value):
        return formats.amount_input(value)


class DayField(_ReadField):
    """A day read by inputs.read_date (« 31/12/2024 », « 2024-12-31 »…): a date, or None
    when nothing was typed."""

    default_message = _l("%(label)s : tapez une date, par exemple 14/03/2026.")

    def read(self, raw):
        return inputs.read_date(raw)

    def shown(self, value):
        return value.isoformat()


class ParsedField(_ReadField):
    """A field read by a reader that says what to type (inputs.parse_int, parse_amount…,
    called with what was typed, trimmed, and the field's label): its message goes on the
    field. None when nothing was typed."""

    def __init__(self, label=None, validators=None, *, reader, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.reader = reader

    def read(self, raw):
        raw = raw.strip()
        return self.reader(raw, self.label.text) if raw else None

    def say(self, error):
        return error.args[0]


def positive_ids(values):
    """What inputs.ids reads, but 0: no row has it."""
    return [found for found in inputs.ids(values) if found > 0]


class IdField(StringField):
    """The id of a thing picked in a list (a store, a workshop): an int, or None for
    anything that is not one (inputs.ids); the service says whether it may be used."""

    def process_formdata(self, valuelist):
        if valuelist:
            found = positive_ids(valuelist[:1])
            self.data = found[0] if found else None

    def _value(self):
        return "" if self.data is None else str(self.data)


class IdListField(StringField):
    """Ids ticked in a list (several fields of one name): those that are ids, in order."""

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = positive_ids(valuelist)


class CheckField(StringField):
    """A tick box, or a hidden « 1 »: True when anything was posted under its name."""

    def process_data(self, value):
        self.data = bool(value)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = bool(valuelist[0])
