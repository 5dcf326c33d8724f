"""What a message will look like and cost, before anyone presses « Envoyer ».

The seeds count characters on the template and warn that generic expressions may make
the real text too long; here every count is made on the final text (expressions
replaced, STOP added): of each recipient when they are known, else of an example client.
"""

import dataclasses
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NotRequired, TypeAlias, TypedDict, cast

from sqlalchemy import Row, Select, func, select

from ..extensions import db
from ..models import Client, DraftGroup, Store
from ..plurals import gettext, ngettext
from ..sms import cost, encoding, placeholders, stop
from . import credits, settings

# The client of the placeholders' examples (PLACEHOLDERS): what a message looks like
# when no recipient is chosen yet.
EXAMPLE_CLIENT = {
    "civility": "Monsieur",
    "first_name": "JEAN",
    "last_name": "DUPONT",
    "store": "Bijouterie Showroom",
    "number": "12345",
    "amount": Decimal("30.00"),
}
EXAMPLE_NAME = "Monsieur JEAN DUPONT"

# Ids per query: SQLite accepts 32,766 bound values, PostgreSQL 65,535. A campaign's
# selection should come as a query of ids (a Select) and is then costed in one query.
_IDS_PER_QUERY = 10_000

# A placeholder context: what the expressions read of a client (and of a ticket).
Context: TypeAlias = dict[str, Any]
# Recipients sharing a context: (context, recipients, first client id).
Group: TypeAlias = tuple[Context, int, int]
# A recipient a warning is about, as counted: (first client id, units, over by, card
# characters forcing Unicode, recipients).
Sample: TypeAlias = tuple[int, int, int, tuple[str, ...], int]
# What encoding.measure tells of a text: (encoding, units, parts).
Measured: TypeAlias = tuple[str, int, int]
# _Lengths.shape(): ((civility, store), characters the names add, both names GSM-7,
# their escape pairs, their surrogate pairs).
Shape: TypeAlias = tuple[tuple[Any, Any], int, bool, int, int]
# _Lengths._piece(): (characters added, GSM-7, escape pairs, surrogate pairs).
Piece: TypeAlias = tuple[int, bool, int, int]


class _Samples(TypedDict):
    """What _weighted_estimate tells besides the estimate (see there)."""

    over: list[Sample]
    ucs2: list[Sample]
    ucs2_count: int
    card: bool  # the card's Unicode is to be told apart (the text is GSM)
    gsm_saving: int
    longest: NotRequired[int]  # the first client of the longest text's group


@dataclass(frozen=True)
class Cost:
    estimate: cost.Estimate
    available: int  # credits on the account now
    example: bool  # True when computed on EXAMPLE_CLIENT, not on real recipients

    @property
    def credits(self) -> int:
        return self.estimate.credits

    @property
    def left(self) -> int:
        """Credits left after this sending; negative when there are not enough."""
        return self.available - self.estimate.credits

    @property
    def missing(self) -> int:
        return max(0, -self.left)


@dataclass(frozen=True)
class Preview:
    """Everything the composer shows under the text box."""

    body: str
    add_stop: bool
    mention: str  # "STOP 36608"
    max_parts: int
    text: str  # the final text measured: the example client's, or the longest recipient's
    analysis: encoding.Analysis  # of `text`
    limit: int  # units that max_parts parts hold in that encoding
    over_by: int  # units beyond the limit (the worst recipient's), 0 when it fits
    over_limit: int  # recipients (or the example) whose text is too long
    unknown: list[str]  # expressions that would go out as typed
    body_non_gsm: tuple[str, ...]  # characters of the body itself that force Unicode
    gsm_parts: int | None  # parts once those characters are replaced, None if none
    cost: Cost
    # Who is concerned (a campaign's recipients, LISTED at most, first clients first):
    over_list: "tuple[Concerned, ...]" = ()  # Concerned whose text is too long
    card_ucs2: int = 0  # recipients in Unicode because of their card (the text is GSM)
    # Concerned, with the card's characters that forced it:
    card_ucs2_list: "tuple[Concerned, ...]" = ()
    gsm_names: bool = False  # the card values go out in GSM-7 (a campaign's choice)
    names_gsm_credits: int | None = None  # the cost with the card values in GSM-7

    @property
    def over_more(self) -> int:
        """Recipients too long beyond the listed ones."""
        return self.over_limit - sum(1 + c.others for c in self.over_list)

    @property
    def card_ucs2_more(self) -> int:
        return self.card_ucs2 - sum(1 + c.others for c in self.card_ucs2_list)

    @property
    def empty(self) -> bool:
        return not self.body.strip()

    @property
    def stop_units(self) -> int:
        """What the mention takes of the text's room (its line break included)."""
        return stop.room(self.mention) if self.add_stop else 0

    @property
    def too_long(self) -> str:
        """The counter's refusal, word for word what a send of this text answers."""
        return too_long_message(
            over_limit=self.over_limit,
            over_by=self.over_by,
            recipients=0 if self.cost.example else self.cost.estimate.recipients,
            limit=self.limit,
            max_parts=self.max_parts,
            stop_units=self.stop_units,
        )


# <NUM> and <MONTANT> are a repair ticket's: a sending about no ticket (a client's SMS
# from the card, a marketing campaign) would always leave them empty. A text written for
# no sending in particular (« service »: saved messages) may serve a ticket.
TICKET_TAGS = ("<NUM>", "<MONTANT>")
TICKET_KINDS = ("repair", "workshop_return", "service")


def placeholders_for(kind: str) -> list[placeholders.Placeholder]:
    """The expressions a sending of this kind fills, as the composer offers them."""
    if kind in TICKET_KINDS:
        return list(placeholders.PLACEHOLDERS)
    return [p for p in placeholders.PLACEHOLDERS if p.tag not in TICKET_TAGS]


def always_empty(body: str | None, kind: str) -> list[str]:
    """Expressions of `body` that a sending of this kind always leaves empty."""
    if kind in TICKET_KINDS or not body:
        return []
    return [tag for tag in TICKET_TAGS if tag in body]


def _parts(count: int) -> str:
    return gettext("%(num)d SMS", num=count)


def too_long_message(
    *,
    over_limit: int,
    over_by: int,
    recipients: int,
    limit: int,
    max_parts: int,
    stop_units: int = 0,
) -> str:
    """The one refusal of a text longer than the store allows (« Parties par message au
    plus »), for the composer's counter and every kind of sending (single SMS, campaign,
    SAV, API, CLI): "" when nothing is over. `limit` is what max_parts parts hold in the
    encoding of the text most over; `recipients` 0 or 1 speaks of « le message »."""
    if not over_limit:
        return ""
    if recipients > 1:
        who = ngettext(
            "%(num)d destinataire a un texte trop long",
            "%(num)d destinataires ont un texte trop long",
            over_limit,
        )
        if over_limit > 1:
            what = ngettext(
                "jusqu'à %(num)d caractère de trop pour %(parts)s.",
                "jusqu'à %(num)d caractères de trop pour %(parts)s.",
                over_by,
                parts=_parts(max_parts),
            )
        else:
            what = ngettext(
                "%(num)d caractère de trop pour %(parts)s.",
                "%(num)d caractères de trop pour %(parts)s.",
                over_by,
                parts=_parts(max_parts),
            )
        said = gettext("%(who)s : %(what)s", who=who, what=what)
    elif stop_units:
        said = ngettext(
            "Message trop long de %(num)d caractère : %(limit)d caractères au plus avec la "
            "mention STOP (%(parts)s).",
            "Message trop long de %(num)d caractères : %(limit)d caractères au plus avec la "
            "mention STOP (%(parts)s).",
            over_by,
            limit=limit - stop_units,
            parts=_parts(max_parts),
        )
    else:
        said = ngettext(
            "Message trop long de %(num)d caractère : %(limit)d caractères au plus (%(parts)s).",
            "Message trop long de %(num)d caractères : %(limit)d caractères au plus (%(parts)s).",
            over_by,
            limit=limit,
            parts=_parts(max_parts),
        )
    advice = gettext("Raccourcissez le texte ou retirez des expressions génériques.")
    return f"{said} {advice}"


def max_parts(store_id: int | None = None) -> int:
    """« Parties par message au plus » of the store (the seeds' "160 caractères maxi" is 1)."""
    return _rules(store_id)[0]


# A campaign's warnings name the recipients concerned: the first ones, never all of them.
LISTED = 20


@dataclass(frozen=True)
class Concerned:
    """A recipient a warning is about, with what is wrong with their text."""

    client_id: int
    name: str
    units: int  # the final text's characters (septets or UCS-2 units)
    over_by: int  # beyond the limit, 0 when it fits
    chars: tuple[str, ...]  # characters of the card that force Unicode
    others: int  # further recipients with the same card values, hence the same text


# What placeholders read of a client; campaigns freeze their messages from the same.
PLACEHOLDER_COLUMNS = (
    Client.civility,
    Client.first_name,
    Client.last_name,
    Store.name.label("store"),
)


def placeholder_context(row: Row) -> Context:
    return {
        "civility": row.civility,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "store": row.store,
    }


def recipient_contexts(client_ids: Iterable[int] | Select[Any]) -> Iterator[Context]:
    """The placeholder context of each client, read in one query (a chunk of ids per
    query for very long lists): never a query per client."""
    columns = select(*PLACEHOLDER_COLUMNS).join(Store, Store.id == Client.store_id)
    chunks: Sequence[Select[Any] | list[int]]
    if isinstance(client_ids, Select):
        chunks = [client_ids]
    else:
        ids = list(dict.fromkeys(int(i) for i in client_ids))
        chunks = [ids[i : i + _IDS_PER_QUERY] for i in range(0, len(ids), _IDS_PER_QUERY)]
    for chunk in chunks:
        for row in db.session.execute(
            columns.where(Client.id.in_(chunk)).order_by(Client.id)  # the same order each time
        ):
            yield placeholder_context(row)


def for_clients(
    body: str | None,
    client_ids: Iterable[int] | Select[Any],
    *,
    add_stop: bool,
    store_id: int | None = None,
) -> Cost:
    """The exact cost of sending `body` to these clients (ids, or a Select of ids)."""
    max_parts, short_code = _rules(store_id)
    estimate = cost.estimate(
        body or "",
        recipient_contexts(client_ids),
        add_stop=add_stop,
        short_code=short_code,
        max_parts=max_parts,
    )
    return Cost(estimate=estimate, available=credits.balance(), example=False)


def example_context(store_id: int | None = None) -> Context:
    """EXAMPLE_CLIENT, in the given store."""
    context = dict(EXAMPLE_CLIENT)
    if store_id is not None:
        name = db.session.scalar(select(Store.name).where(Store.id == store_id))
        context["store"] = name or context["store"]
    return context


def preview(
    body: str | None,
    *,
    add_stop: bool,
    store_id: int | None = None,
    client_ids: Iterable[int] | Select[Any] | None = (),
    campaign_id: int | None = None,
    variant: str | None = None,
    contexts: Iterable[Mapping[str, Any]] | None = None,
    gsm_names: bool = False,
) -> Preview:
    """The composer's counter, warnings and cost for `body`: on the recipients' final
    texts when client_ids (ids, or a Select of ids) are given, or a draft's list
    (`campaign_id`: its DraftGroup rows, whatever its size; one `variant`'s of an A/B
    campaign), or their placeholder
    `contexts` themselves (a repair ticket's hold its number and amount), else on the
    example's."""
    body = body or ""
    max_parts, short_code = _rules(store_id)
    if not isinstance(client_ids, Select):
        client_ids = list(client_ids or ())
    grouped = campaign_id is not None or isinstance(client_ids, Select)
    example = contexts is None and not grouped and not client_ids
    if grouped:
        # A campaign's recipients (tens of thousands): one row per distinct value of
        # what the text uses (a draft: per shape of it), with its count, so a keystroke
        # renders each text once.
        fields = _fields_used(body)
        groups: Sequence[Group]
        if campaign_id is not None:
            groups = draft_groups(campaign_id, fields, variant)
        else:
            assert isinstance(client_ids, Select)  # grouped without a draft
            groups = _grouped_contexts(client_ids, fields)

        # Only with a GSM text is a recipient's Unicode their card's doing.
        samples: _Samples | None = {
            "over": [],
            "ucs2": [],
            "ucs2_count": 0,
            "card": encoding.is_gsm(body),
            "gsm_saving": 0,
        }

        def estimate_for(
            template: str, gsm_names: bool = gsm_names, samples: _Samples | None = None
        ) -> cost.Estimate:
            return _weighted_estimate(
                template, groups, add_stop, short_code, max_parts, gsm_names, samples
            )

    else:
        samples = None

        # Read once, measured twice (as typed, and with the special characters replaced).
        if contexts is not None:
            contexts = list(contexts)
        elif example:
            contexts = [example_context(store_id)]
        else:
            contexts = list(recipient_contexts(client_ids))

        def estimate_for(  # the same signature; no samples without groups
            template: str, gsm_names: bool = gsm_names, samples: _Samples | None = None
        ) -> cost.Estimate:
            return cost.estimate(
                template,
                contexts,
                add_stop=add_stop,
                short_code=short_code,
                max_parts=max_parts,
                gsm_names=gsm_names,
            )

    estimate = estimate_for(body, samples=samples) if samples is not None else estimate_for(body)
    analysis = encoding.analyze(estimate.longest_text)
    text = estimate.longest_text
    if campaign_id is not None and samples is not None and samples.get("longest"):
        # Measured on a shape (« Aaaa »): shown as its first client's card writes it.
        real = list(recipient_contexts([samples["longest"]]))
        if real:
            text = cost.final_text(
                body, real[0], add_stop=add_stop, short_code=short_code, gsm_names=gsm_names
            )
            estimate = dataclasses.replace(estimate, longest_text=text)
    body_non_gsm = encoding.analyze(body).non_gsm
    listed = _concerned(samples) if samples else {"over": (), "ucs2": ()}
    card_ucs2 = samples["ucs2_count"] if samples else 0
    names_gsm_credits = None
    if samples and card_ucs2 and not gsm_names:
        names_gsm_credits = estimate.credits - samples["gsm_saving"]
    return Preview(
        body=body,
        add_stop=add_stop,
        mention=stop.stop_mention(short_code),
        max_parts=max_parts,
        text=text,
        analysis=analysis,
        limit=encoding.capacity(analysis.encoding, max_parts),
        over_by=estimate.over_by,
        over_limit=estimate.over_limit,
        unknown=placeholders.unknown(body),
        body_non_gsm=body_non_gsm,
        gsm_parts=estimate_for(encoding.to_gsm(body)).longest_parts if body_non_gsm else None,
        cost=Cost(estimate=estimate, available=credits.balance(), example=example),
        over_list=listed["over"],
        card_ucs2=card_ucs2,
        card_ucs2_list=listed["ucs2"],
        gsm_names=gsm_names,
        names_gsm_credits=names_gsm_credits,
    )


def _concerned(samples: _Samples) -> dict[str, tuple[Concerned, ...]]:
    """The samples' recipients named (one query on at most 2 × LISTED ids)."""
    ids = {sample[0] for key in ("over", "ucs2") for sample in samples[key]}
    names: dict[int, str] = {}
    if ids:
        rows = db.session.execute(
            select(Client.id, Client.last_name, Client.first_name).where(Client.id.in_(ids))
        )
        names = {row.id: f"{row.last_name} {row.first_name}".strip() for row in rows}
    return {
        key: tuple(
            Concerned(
                client_id=client_id,
                name=names.get(client_id, ""),
                units=units,
                over_by=over_by,
                chars=chars,
                others=count - 1,
            )
            for client_id, units, over_by, chars, count in samples[key]
        )
        for key in ("over", "ucs2")
    }


# Which client columns each expression reads (the others render from the ticket).
_FIELDS = {
    "GEN": ("civility",),
    "CIV": ("civility",),
    "NOM": ("civility", "first_name", "last_name"),
    "NOMPROPRE": ("last_name",),
    "PRENOM": ("first_name",),
    "MAGASIN": ("store",),
}
_TAG_RE = re.compile(r"<([A-Z]+)>")


def _fields_used(body: str | None) -> list[str]:
    used: list[str] = []
    for tag in _TAG_RE.findall(body or ""):
        used += [field for field in _FIELDS.get(tag, ()) if field not in used]
    return used


@functools.lru_cache(maxsize=65_536)
def _card_shape(grp: str) -> tuple[Any, ...]:
    """DraftGroup.grp read (the same few hundred at each keystroke)."""
    return tuple(json.loads(grp))


def draft_groups(
    campaign_id: int, fields: Sequence[str], variant: str | None = None
) -> tuple[Group, ...]:
    """A draft's pending recipients as [(context, recipients, first client id)], one per
    value of `fields` in the shapes of their cards (sms.cost.shape: texts measured on a
    shape cost what the card's would), in the order of each group's first client; read
    from its DraftGroup rows (a few hundred, whatever the list's size), which the
    database keeps as the list changes (the first client of a group still on it)."""
    query = select(DraftGroup.grp, DraftGroup.recipients, DraftGroup.first_client_id).where(
        DraftGroup.campaign_id == campaign_id, DraftGroup.recipients > 0
    )
    if variant:
        query = query.where(DraftGroup.variant == variant)
    # Core rows (no ORM loading): read at every pause in the typing.
    rows = tuple(map(tuple, db.session.connection().execute(query).all()))
    stores: tuple[tuple[Any, ...], ...] = ()
    if "store" in fields:
        stores = tuple(
            tuple(row) for row in db.session.connection().execute(select(Store.id, Store.name))
        )
    return _merged_groups(tuple(fields), rows, stores)


@functools.lru_cache(maxsize=32)
def _merged_groups(
    fields: tuple[str, ...],
    rows: tuple[tuple[Any, ...], ...],
    stores: tuple[tuple[Any, ...], ...],
) -> tuple[Group, ...]:
    """draft_groups' merge, kept for the same rows read (the list unchanged between two
    keystrokes: the same few hundred rows give the same groups)."""
    store_names = dict(stores)
    merged: dict[tuple[Any, ...], list[Any]] = {}  # [context, recipients, first client id]
    for grp, count, first_id in rows:
        store_id, civility, first_name, last_name = _card_shape(grp)
        context = {
            "civility": civility,
            "first_name": first_name,
            "last_name": last_name,
            "store": store_names.get(store_id, ""),
        }
        key = tuple([context[field] for field in fields])
        found = merged.get(key)
        if found is None:
            merged[key] = [context, count, first_id]
        else:
            found[1] += count
            found[2] = min(found[2], first_id)
    return tuple(sorted((tuple(group) for group in merged.values()), key=lambda group: group[2]))


def _grouped_contexts(client_ids: Select[Any], fields: Sequence[str]) -> list[Group]:
    """[(context, recipients, first client id)] for the clients of a Select of ids,
    grouped on `fields`, in the order of each group's first client (the order a full read
    would give)."""
    columns = {
        "civility": Client.civility,
        "first_name": Client.first_name,
        "last_name": Client.last_name,
        "store": Store.name,
    }
    ids = client_ids.subquery()
    query = select(*(columns[f] for f in fields), func.count()).select_from(Client)
    query = query.join(ids, ids.c[0] == Client.id)
    if "store" in fields:
        query = query.join(Store, Store.id == Client.store_id)
    if fields:
        query = query.group_by(*(columns[f] for f in fields)).order_by(func.min(Client.id))
    query = query.add_columns(func.min(Client.id))  # names the group in the warnings
    groups: list[Group] = []
    for row in db.session.execute(query):
        count: int = row[-2]
        if count:
            groups.append((dict(zip(fields, row[:-2], strict=True)), count, row[-1]))
    return groups


# (expressions, names in GSM-7, STOP's last character) -> _Lengths' pieces
_PIECES: dict[
    tuple[str, bool, str | None],
    tuple[dict[tuple[str, Any], Piece | None], dict[str, str], dict[str, bool]],
] = {}


class _Lengths:
    """The measure of a group's text without rendering it, from what each name adds to
    the text, when that is enough: the names not empty, without edge spaces, line breaks
    or the punctuation that empty expressions' spacing looks at, and the text either
    without characters of two units or in one part. Then a text's length is the
    template's (with its civility, store and STOP, « A » for the names) plus what each
    name's expressions add (measured once per name, on the template's expressions
    alone), its encoding GSM-7 if all of these are, and its parts follow from its units.
    A recount then costs a few additions per group; a name that cannot be told this way
    is rendered in full."""

    def __init__(
        self,
        template: str | None,
        render: Callable[[Context], str],
        add_stop: bool,
        short_code: str,
        gsm_names: bool,
    ) -> None:
        self.render, self.gsm_names = render, gsm_names
        tags = [f"<{tag}>" for tag in _TAG_RE.findall(template or "")]
        self.tags = " ".join(tag for tag in tags if tag in placeholders.KNOWN_TAGS)
        # The STOP mention goes after the text unless the text already ends with it.
        self.mention_end = stop.stop_mention(short_code)[-1] if add_stop else None
        self.usable = self.mention_end not in ("A", "a")
        self.bases: dict[tuple[Any, Any], tuple[int, bool, int, int]] = {}
        # What a name adds depends on the expressions alone, not on the rest of the text:
        # kept from one keystroke to the next (a few thousand names per set of them).
        key = (self.tags, gsm_names, self.mention_end)
        shared = _PIECES.get(key)
        if shared is None or len(shared[0]) > 100_000:
            if len(_PIECES) >= 64:
                _PIECES.clear()
            shared = _PIECES[key] = ({}, {}, {})
        self.pieces: dict[tuple[str, Any], Piece | None] = shared[0]
        self.ones: dict[str, str] = shared[1]  # field -> the probe of « A »
        self.unused: dict[str, bool] = shared[2]  # field -> the template does not use it
        self.probe_of: dict[str, Callable[[Any], Context]] = {
            "first_name": lambda v: {"first_name": v, "last_name": "A"},
            "last_name": lambda v: {"first_name": "A", "last_name": v},
        }

    def measure(self, context: Mapping[str, Any]) -> Measured | None:
        """(encoding, units, parts), or None when the text has to be rendered."""
        shape = self.shape(context)
        return None if shape is None else self.measure_shape(shape, context)

    def shape(self, context: Mapping[str, Any]) -> Shape | None:
        """What the text's measure depends on besides the template's own characters:
        ((civility, store), characters the names add, both names GSM-7, their escape
        pairs, their surrogate pairs); None when the names cannot be told this way.
        Depends on the expressions only, so it holds from one keystroke to the next."""
        if not self.usable:
            return None
        first = self._piece("first_name", context.get("first_name"))
        last = self._piece("last_name", context.get("last_name"))
        if first is None or last is None:
            return None
        return (
            (context.get("civility"), context.get("store")),
            first[0] + last[0],
            first[1] and last[1],
            first[2] + last[2],
            first[3] + last[3],
        )

    def measure_shape(self, shape: Shape, context: Mapping[str, Any]) -> Measured | None:
        """measure() of a context of this shape (`context`: any one of them)."""
        key, added, names_gsm, escapes, astral = shape
        base = self.bases.get(key)
        if base is None:
            base = self.bases[key] = _text_units(
                self.render(dict(context, first_name="A", last_name="A"))
            )
        length = base[0] + added
        if base[1] and names_gsm:
            name, doubles, single, multi = encoding.GSM_7, base[2] + escapes, 160, 153
        else:
            name, doubles, single, multi = encoding.UCS_2, base[3] + astral, 70, 67
        units = length + doubles
        if units <= single:
            return name, units, 1
        if doubles:  # where the parts are cut depends on where those characters are
            return None
        return name, units, -(-units // multi)

    def _piece(self, field: str, value: Any) -> Piece | None:
        """(characters added, GSM-7, escape pairs, surrogate pairs) by the value in the
        template's expressions, against « A »; None if it cannot be told this way."""
        try:
            return self.pieces[(field, value)]
        except KeyError:
            pass
        found: Piece | None = None
        one = self.ones.get(field)
        if one is None:
            one = self.ones[field] = self._probe(field, "A")
            self.unused[field] = one == self._probe(field, "AA")
        if self.unused[field]:
            found = (0, True, 0, 0)  # a name the template does not use
        elif (
            value.__class__ is str
            and value
            and value == value.strip()
            and not (_UNTOLD.intersection(value) or value[-1] == self.mention_end)
        ):
            counted, plain = _text_units(self._probe(field, value)), _text_units(one)
            found = (
                counted[0] - plain[0],
                counted[1],
                counted[2] - plain[2],
                counted[3] - plain[3],
            )
        self.pieces[(field, value)] = found
        return found

    def _probe(self, field: str, value: Any) -> str:
        context = {"civility": "", "store": "", **self.probe_of[field](value)}
        return cost.final_text(self.tags, context, add_stop=False, gsm_names=self.gsm_names)


# Characters of a name that the text's spacing or line breaks depend on.
_UNTOLD = frozenset("\r\n\ue000,.;:!?)\u2026")


def _text_units(text: str) -> tuple[int, bool, int, int]:
    """(characters, GSM-7, escape pairs if GSM-7, surrogate pairs)."""
    gsm = encoding.is_gsm(text)
    escapes = encoding.measure(text)[1] - len(text) if gsm else 0
    astral = sum(1 for char in text if ord(char) > 0xFFFF)
    return len(text), gsm, escapes, astral


def _weighted_estimate(
    template: str,
    groups: Sequence[Group],
    add_stop: bool,
    short_code: str,
    max_parts: int,
    gsm_names: bool = False,
    samples: _Samples | None = None,
) -> cost.Estimate:
    """cost.estimate over groups of recipients sharing a context. `samples` (a dict of
    lists) receives the first LISTED groups too long and in Unicode, as (first client id,
    units, over by, card characters, recipients), and the count of the latter.

    Groups whose names add the same to the text (_Lengths.shape) cost the same: they are
    counted together, one measure per shape (a few dozen for a thousand groups); the
    others, and those whose card's Unicode is to be told apart, one by one."""
    tally = cost.Tally(max_parts)  # the longest text is found again by its group's index
    over_found: list[tuple[int, int, int]] = []  # (group index, units, over by)
    ucs2_found: list[tuple[int, int, int]] = []
    measures: dict[str, Measured] = {}

    def render(context: Mapping[str, Any]) -> str:
        return cost.final_text(
            template, context, add_stop=add_stop, short_code=short_code, gsm_names=gsm_names
        )

    def render_gsm(context: Mapping[str, Any]) -> str:
        return cost.final_text(
            template, context, add_stop=add_stop, short_code=short_code, gsm_names=True
        )

    lengths = _Lengths(template, render, add_stop, short_code, gsm_names)
    card = samples is not None and samples["card"]
    lengths_gsm = None
    if card and not gsm_names:
        lengths_gsm = _Lengths(template, render_gsm, add_stop, short_code, True)
    shapes, one_by_one = _shapes(lengths, groups, lengths_gsm)
    for (shape, shape_gsm), (count, indexes) in shapes.items():
        context = groups[indexes[0]][0]
        measured = lengths.measure_shape(shape, context)
        if measured is None:
            one_by_one.extend(indexes)
            continue
        encoding_name, units, parts = measured
        if card and samples is not None and encoding_name == encoding.UCS_2:
            if lengths_gsm is not None:  # what names in GSM-7 would save (see below)
                plain = None
                if shape_gsm is not None:
                    plain = lengths_gsm.measure_shape(shape_gsm, context)
                if plain is None:
                    one_by_one.extend(indexes)
                    continue
                samples["gsm_saving"] += (parts - plain[2]) * count
            samples["ucs2_count"] += count
        by = tally.add(measured, count, order=indexes[0], at=indexes[0])
        if by:
            over_found += [(index, units, by) for index in indexes[:LISTED]]
        if card and encoding_name == encoding.UCS_2:
            ucs2_found += [(index, units, by) for index in indexes[:LISTED]]
    for index in sorted(one_by_one):
        context, count, _first_id = groups[index]
        measured = lengths.measure(context)
        if measured is None:
            text = render(context)
            measured = measures.get(text)
            if measured is None:
                measured = measures[text] = encoding.measure(text)
        encoding_name, units, parts = measured
        by = tally.add(measured, count, order=index, at=index)
        if by:
            over_found.append((index, units, by))
        if card and samples is not None and encoding_name == encoding.UCS_2:
            samples["ucs2_count"] += count
            if lengths_gsm is not None:  # not gsm_names
                # Names in GSM-7 change only these texts (the others are GSM already):
                # what they would save, measured on them alone.
                plain = lengths_gsm.measure(context)
                if plain is None:
                    plain = encoding.measure(render_gsm(context))
                samples["gsm_saving"] += (parts - plain[2]) * count
            ucs2_found.append((index, units, by))
    if samples is not None:
        for index, units, by in sorted(over_found)[:LISTED]:
            samples["over"].append((groups[index][2], units, by, (), groups[index][1]))
        for index, units, by in sorted(ucs2_found)[:LISTED]:
            context, count, first_id = groups[index]
            chars = encoding.analyze(render(context)).non_gsm
            samples["ucs2"].append((first_id, units, by, chars, count))
        if tally.longest is not None:
            samples["longest"] = groups[cast(int, tally.longest_at)][2]
    longest = render(groups[cast(int, tally.longest_at)][0]) if tally.longest is not None else ""
    return tally.estimate(longest)


# {(shape, shape with the names in GSM-7 or None): (recipients, group indexes in order)}
_ShapeCounts: TypeAlias = dict[tuple[Shape, Shape | None], tuple[int, list[int]]]
# (id of a draft's groups, expressions…) -> (the groups, their shapes)
_SHAPES: dict[tuple[Any, ...], tuple[Sequence[Group], tuple[_ShapeCounts, tuple[int, ...]]]] = {}


def _shapes(
    lengths: _Lengths, groups: Sequence[Group], lengths_gsm: _Lengths | None = None
) -> tuple[_ShapeCounts, list[int]]:
    """({(shape, shape with the names in GSM-7 or None): (recipients, group indexes in
    order)}, [indexes of groups without a shape]) for `groups`; a draft's groups (a tuple,
    the same object while its list is unchanged, see _merged_groups) keep theirs from one
    keystroke to the next."""
    key = (id(groups), lengths.tags, lengths.gsm_names, lengths.mention_end, bool(lengths_gsm))
    kept = _SHAPES.get(key)
    if kept is not None and kept[0] is groups:
        return kept[1][0], list(kept[1][1])
    shapes: _ShapeCounts = {}
    loose: list[int] = []
    for index, (context, count, _first_id) in enumerate(groups):
        shape = lengths.shape(context)
        if shape is None:
            loose.append(index)
            continue
        both = (shape, lengths_gsm.shape(context) if lengths_gsm is not None else None)
        found = shapes.get(both)
        if found is None:
            shapes[both] = (count, [index])
        else:
            found[1].append(index)
            shapes[both] = (found[0] + count, found[1])
    if isinstance(groups, tuple):
        if len(_SHAPES) >= 32:
            _SHAPES.clear()
        _SHAPES[key] = (groups, (shapes, tuple(loose)))
    return shapes, loose


def _rules(store_id: int | None) -> tuple[int, str]:
    """(max_parts, STOP short code) for the store: the seeds' "160 caractères maxi" is
    max_parts = 1."""
    max_parts = max(1, int(settings.get("max_parts", store_id)))
    return max_parts, str(settings.get("stop_short_code", store_id))
