"""Sentences of the pure core in the person's language, without Flask here: a rule says
its French text through `N_("… %(name)s …", name=value)`, which returns that French text
(a str, so callers, logs and jobs read French as before) carrying its msgid and values.
`pybabel extract` collects N_ by default, and the web layer says it in the person's
language with `shopsms.formats.said` (the `said` Jinja filter)."""

from __future__ import annotations


class Said(str):
    """The French text, with `msgid` and `variables` to translate it later."""

    msgid: str
    variables: dict

    def __new__(cls, msgid: str, **variables: object) -> Said:
        said = super().__new__(cls, msgid % variables if variables else msgid)
        said.msgid, said.variables = msgid, variables
        return said


def N_(msgid: str, **variables: object) -> Said:  # noqa: N802  (Babel's name for a marked text)
    return Said(msgid, **variables)
