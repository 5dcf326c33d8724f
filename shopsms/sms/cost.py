"""What a sending costs, computed on each recipient's final text, not on the template."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from . import encoding, placeholders, stop


@dataclass(frozen=True)
class Estimate:
    credits: int  # total parts over all recipients: what the sending costs
    recipients: int
    by_parts: dict[int, int] = field(hash=False)  # parts -> number of recipients, sorted
    longest_text: str  # the final text with the most parts (then the most units)
    longest_parts: int
    over_limit: int  # recipients whose text needs more than max_parts parts
    over_by: int  # the largest excess in units ("dépasse de N caractères"), 0 if none
    ucs2: int  # recipients whose text goes out as UCS-2 (fewer characters per part)
    max_parts: int


def final_text(
    template: str,
    context: Mapping,
    *,
    add_stop: bool,
    short_code: str = stop.DEFAULT_SHORT_CODE,
    gsm_names: bool = False,
) -> str:
    """Exactly what one recipient receives; costing and sending both use it.
    `gsm_names`: the card's values (names, store) are written in GSM-7 for this SMS
    (« Françoise » → « Francoise »), the template as typed."""
    mention = stop.stop_mention(short_code) if add_stop else None
    return _final_text(template, context, mention, gsm_names)


def gsm_context(context: Mapping) -> dict:
    """The context with its text values in their closest GSM-7 spelling, in either case:
    expressions change the case (<PRENOM> makes « FRANÇOISE » « Françoise », and ç, unlike
    Ç, is not GSM), so a letter goes when its upper or lower form is not GSM."""
    return {
        key: _gsm_any_case(value) if isinstance(value, str) else value
        for key, value in context.items()
    }


def _gsm_any_case(value: str) -> str:
    if encoding.is_gsm(value.lower()) and encoding.is_gsm(value.upper()):
        return value
    out = []
    for char in value:
        if encoding.is_gsm(char.lower()) and encoding.is_gsm(char.upper()):
            out.append(char)
            continue
        plain = encoding.to_gsm(char.lower())
        out.append(plain.upper() if char.isupper() else plain)
    return "".join(out)


def _final_text(
    template: str, context: Mapping, mention: str | None, gsm_names: bool = False
) -> str:
    if gsm_names:
        context = gsm_context(context)
    text = placeholders.render(template, context)
    if "\r" in text:
        # Browsers submit textareas with CRLF; a CR is a billed character nobody wants.
        text = text.replace("\r\n", "\n")
    return text if mention is None else stop.append_mention(text, mention)


def excess(encoding_name: str, units: int, parts: int, max_parts: int) -> int:
    """The one "too long" rule of every kind of sending (single SMS, campaign, SAV,
    automatic, API, CLI): a text is too long when it needs more than max_parts parts
    (« Parties par message au plus », costing.max_parts). Returns the units beyond what
    max_parts parts hold, 0 when the text fits; at least 1 when it does not (an escape or
    surrogate pair pushed to the next part can overflow a full text)."""
    if parts <= max_parts:
        return 0
    return max(1, units - encoding.capacity(encoding_name, max_parts))


@dataclass
class Overflow:
    """The "too long" rule, counted as texts are rendered one by one (a sending that
    freezes its texts itself): every kind of sending refuses a text of more than
    max_parts parts, and says by how much with costing.too_long_message."""

    max_parts: int
    recipients: int = 0
    over_limit: int = 0
    over_by: int = 0
    encoding: str = encoding.GSM_7  # of the text most over (its capacity is the limit shown)

    def add(self, measured: tuple[str, int, int], count: int = 1) -> int:
        """Count `count` recipients of this measured text; returns its excess."""
        encoding_name, units, parts = measured
        self.recipients += count
        by = excess(encoding_name, units, parts, self.max_parts)
        if by:
            self.over_limit += count
            if by > self.over_by:
                self.over_by, self.encoding = by, encoding_name
        return by

    def merge(self, other: Overflow) -> None:
        """Count the texts `other` counted (a part of the same sending, measured apart).
        Of two texts over by as much, the one already counted is kept."""
        self.recipients += other.recipients
        self.over_limit += other.over_limit
        if other.over_by > self.over_by:
            self.over_by, self.encoding = other.over_by, other.encoding

    @property
    def limit(self) -> int:
        return encoding.capacity(self.encoding, self.max_parts)


@dataclass
class Tally:
    """An Estimate counted as texts are measured: one text at a time (estimate), or a
    measured text for `count` recipients at once (costing's groups of cards that cost the
    same). Credits, the parts' spread, the UCS-2 texts, the "too long" rule (Overflow)
    and the longest text are counted here only, whichever way the texts come."""

    max_parts: int
    credits: int = 0
    ucs2: int = 0
    by_parts: dict[int, int] = field(default_factory=dict)
    overflow: Overflow = field(init=False)
    # (parts, units, -order) of the longest text, the first of equals, and what the caller
    # gave to find it again (`at`): its text, or its group.
    longest: tuple[int, int, int] | None = None
    longest_at: object = None

    def __post_init__(self) -> None:
        self.overflow = Overflow(self.max_parts)

    def add(
        self,
        measured: tuple[str, int, int],
        count: int = 1,
        *,
        order: int | None = None,
        at: object = None,
    ) -> int:
        """Count `count` recipients of this measured text; `order`: its rank among the
        texts (the first of two equally long ones is the longest; by default, in the order
        added). Returns its excess (the "too long" rule)."""
        encoding_name, units, parts = measured
        if order is None:
            order = self.overflow.recipients
        by = self.overflow.add(measured, count)
        self.credits += parts * count
        self.by_parts[parts] = self.by_parts.get(parts, 0) + count
        if encoding_name == encoding.UCS_2:
            self.ucs2 += count
        if (parts, units) > (0, 0):  # a text of no length is nobody's longest
            candidate = (parts, units, -order)
            if self.longest is None or candidate > self.longest:
                self.longest, self.longest_at = candidate, at
        return by

    def estimate(self, longest_text: str) -> Estimate:
        """The Estimate; `longest_text`: the text of `longest_at` ("" when none)."""
        return Estimate(
            credits=self.credits,
            recipients=self.overflow.recipients,
            by_parts=dict(sorted(self.by_parts.items())),
            longest_text=longest_text if self.longest is not None else "",
            longest_parts=self.longest[0] if self.longest is not None else 0,
            over_limit=self.overflow.over_limit,
            over_by=self.overflow.over_by,
            ucs2=self.ucs2,
            max_parts=self.max_parts,
        )


def estimate(
    template: str,
    contexts: Iterable[Mapping],
    *,
    add_stop: bool,
    short_code: str = stop.DEFAULT_SHORT_CODE,
    max_parts: int = 1,
    gsm_names: bool = False,
) -> Estimate:
    mention = stop.stop_mention(short_code) if add_stop else None
    # Recipients often share a final text (same civility, no name in the template):
    # measure each distinct text once.
    measures: dict[str, tuple[str, int, int]] = {}
    tally = Tally(max_parts)
    for context in contexts:
        text = _final_text(template, context, mention, gsm_names)
        measured = measures.get(text)
        if measured is None:
            measured = measures[text] = encoding.measure(text)
        tally.add(measured, at=text)
    return tally.estimate(str(tally.longest_at or ""))


# A campaign's exact cost is counted on groups of recipients whose card values cost the
# same whatever the template (issue 15), the value's shape:
# - a value of plain characters (PLAIN: one septet, and one UCS-2 unit, in both cases, in
#   GSM-7 already, not a punctuation mark the empty expressions' spacing looks at) is
#   « A » as many times as it has characters once its edge spaces go: proper case,
#   words and GSM-7 names change none of its lengths;
# - any other value keeps its characters, its ASCII letters written « A » (one septet in
#   either case, word characters, unchanged by to_gsm): accents, digits, spaces, emoji
#   stay where they are, so words, proper case, empty values and the parts' cut points
#   are those of the value.
# Two values of one shape give texts of the same encoding, units and parts.
SHAPE_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PLAIN = SHAPE_LETTERS + " '-éÉüÜöÖäÄñÑåÅæÆøØ"
_SHAPE = str.maketrans(SHAPE_LETTERS, "A" * len(SHAPE_LETTERS))
PLAIN_SET = frozenset(PLAIN)


def shape(value: str | None) -> str:
    """The value as it costs: « Jean », « LUC » and « Le Gall » -> « AAAA », « AAA »,
    « AAAAAAA »; « Françoise » -> « AAAAçAAAA ». Rendering the shape gives a text
    measured as the value's (measure())."""
    value = value or ""
    core = value.strip(" ")
    if PLAIN_SET.issuperset(core):
        return "A" * len(core)
    return value.translate(_SHAPE)
