"""One input guard in front of every view: what a form or a query string brings is
cleaned before any view reads it, and ids in URLs stay inside what the database holds.

A view then never meets a NUL byte (PostgreSQL refuses them in text: a 500), a bidi
override or a zero-width space; what was removed is said in French."""

from flask import flash, render_template, request
from flask_babel import lazy_gettext as _l
from htmx_flask.requests import HtmxAwareRequest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

from ..inputs import INT_MAX, clean_text, has_invisible

# Fields whose exact characters matter (a password is compared, not read).
UNTOUCHED = {"password", "current", "new", "confirmation", "csrf_token"}
# Longest value any one field may hold: a message, an address; a bigger one is refused.
MAX_FIELD_CHARS = 20_000


class BoundedArgs(ImmutableMultiDict):
    """request.args and request.form: `.get(name, type=int)` gives the default for a
    number no INTEGER column holds (« 99999999999 », in any script's digits), as it does
    for one that does not parse."""

    def get(self, key, default=None, type=None):  # noqa: A002  (werkzeug's signature)
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and not -INT_MAX - 1 <= value <= INT_MAX:
            return default
        return value


class ShopSMSRequest(HtmxAwareRequest):
    """The product's request: bounded arguments, and request.htmx (htmx-flask) for what
    htmx says of itself (HX-Request, HX-History-Restore-Request)."""

    parameter_storage_class = BoundedArgs


class BoundedIntegerConverter(IntegerConverter):
    """<int:id> up to INT_MAX: a larger id is simply not found (404), not a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits, min, max if max is not None else INT_MAX, signed)


def init_app(app):
    # Before any blueprint: rules pick their converter when they are added.
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.request_class = ShopSMSRequest
    app.before_request(_clean_request)


def _clean(values):
    cleaned, changed = [], []
    for key, value in values.items(multi=True):
        if key not in UNTOUCHED and has_invisible(value):
            value = clean_text(value)
            changed.append(key)
        cleaned.append((clean_text(key), value))
    return cleaned, changed


def _clean_request():
    if request.blueprint == "api":  # JSON: web/api.py checks its fields and answers 400
        return None
    changed = []
    for name in ("args", "form"):
        values = getattr(request, name)
        if not values:
            continue
        if any(len(v) > MAX_FIELD_CHARS for _, v in values.items(multi=True)):
            message = _l(
                "Un champ dépasse %(num)d caractères : raccourcissez-le.", num=MAX_FIELD_CHARS
            )
            return render_template("errors/error.html", code=400, message=message), 400
        cleaned, fields = _clean(values)
        if fields:
            # cached properties of the request: the views read the cleaned values.
            request.__dict__[name] = BoundedArgs(cleaned)
            changed += fields
    if changed and request.method != "GET" and request.blueprint != "hooks":
        flash(
            _l(
                "Des caractères invisibles ou de contrôle ont été retirés de ce que vous avez tapé."
            ),
            "warning",
        )
    return None
