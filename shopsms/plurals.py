"""Counts as the person's language says them: « 1 caractère de trop », « 2 caractères de
trop », « 0 destinataire ». Flask-Babel's ngettext, for the templates (installed in Jinja
by create_app) and for the code (`from shopsms.plurals import ngettext`), with one
difference: the French texts are the catalogue's msgids, among which gettext chooses by
the English rule (0 takes the plural), where French gives 0 and 1 the singular."""

from flask import has_request_context
from flask_babel import get_locale, get_translations
from flask_babel.speaklater import LazyString


def choose(singular, plural, num):
    """The form of the text for `num`, translated."""
    if _french():
        return singular if abs(int(num)) < 2 else plural
    return get_translations().ungettext(singular, plural, num)


def ngettext(singular, plural, num, **variables):
    """flask_babel.ngettext with the French rule: `num` is also %(num)d in the text."""
    variables.setdefault("num", num)
    return choose(singular, plural, num) % variables


def lazy_ngettext(singular, plural, num, **variables):
    """ngettext said when shown, in the reader's language: a refusal made by a job is
    stored as it is (formats.keep) and said later (`make catalog` extracts it)."""
    return LazyString(ngettext, singular, plural, num, **variables)


def gettext(text, **variables):
    """flask_babel.gettext, in French outside a request (a job, the CLI)."""
    if not _french():
        text = get_translations().ugettext(text)
    return text % variables if variables else text


def _french():
    # Outside a request (a job, the CLI) nobody chose a language: the texts' own, French.
    if not has_request_context():
        return True
    locale = get_locale()
    return locale is None or locale.language == "fr"


def install(app):
    """The templates' ngettext (Flask-Babel installed the others)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=choose,
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
    )
