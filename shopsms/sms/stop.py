"""The STOP mention required on marketing SMS (art. L34-5 CPCE)."""

from __future__ import annotations

# The opt-out short code belongs to the SMS provider; it is a setting.
DEFAULT_SHORT_CODE = "36608"
# The sendings that must carry the mention: marketing (the law); on the others
# (a single SMS, a repair notice) it is the sender's choice.
REQUIRED_ON = ("marketing",)


def required(kind: str) -> bool:
    """Whether the law puts the mention on a sending of this kind, whatever is asked."""
    return kind in REQUIRED_ON


def applies(kind: str, asked: object) -> bool:
    """Whether a sending of this kind carries the mention: always where it is
    required, else as asked (« Ajouter la mention STOP »)."""
    return required(kind) or bool(asked)


def stop_mention(short_code: str = DEFAULT_SHORT_CODE) -> str:
    code = str(short_code or "").strip()
    if not code:
        raise ValueError("STOP short code is empty")
    return f"STOP {code}"


def room(mention: str) -> int:
    """What the mention takes of a text's room: itself and the line break before it (with
    « STOP 36608 », 11, so a one-SMS text keeps 149 of its 160 characters)."""
    return len(mention) + 1


def with_stop(text: str, short_code: str = DEFAULT_SHORT_CODE) -> str:
    """The text with the mention on its own last line.

    Trailing blank lines and spaces are dropped first: they would cost units and
    push the mention away. A text that already ends with the mention is left as is.
    """
    return append_mention(text, stop_mention(short_code))


def append_mention(text: str, mention: str) -> str:
    """with_stop() for a mention already built (costing calls it once per recipient)."""
    body = text.rstrip()
    if not body:
        return mention
    if body.endswith(mention):
        return body
    return f"{body}\n{mention}"
