"""What every gateway shares: the messages handed to it and its answers, the delivery
reports it brings back, the callbacks through which it reaches the services (given by
create_app), and the configuration it reads. The gateways import this, never the
package's __init__ (which imports them to choose one)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db


@dataclass(frozen=True)
class OutgoingSms:
    message_id: int
    phone: str  # E.164
    text: str
    sender_id: str
    parts: int


@dataclass(frozen=True)
class Submitted:
    """The gateway's answer for one message: taken (with its reference) or refused."""

    message_id: int
    ref: str | None = None  # the gateway's own id, when it is not our message id
    # Refused: the reason for the report, its French words (a catalogue sentence, N_, that
    # the gateway makes `readable`: the screens say it in the reader's language).
    error: str = ""
    # Not taken, nothing of it left (the operator asked us to slow down): it goes back
    # to pending, for a later batch.
    retry: bool = False
    # A concatenated SMS whose parts the gateway names one by one (SMPP): their ids, in
    # order; `ref` is then the last one's.
    part_refs: tuple[str, ...] = ()

    @property
    def accepted(self):
        return not self.error and not self.retry


@dataclass(frozen=True)
class Report:
    """A delivery report, whichever gateway brings it (services/delivery.record)."""

    state: str  # submitted (reached the operator), delivered, failed or expired
    message_id: int | None = None  # our id, when the gateway echoes it (outbox, Kannel)
    ref: str | None = None  # the gateway's id, when it names messages its own way (SMPP)
    error: str = ""


@dataclass(frozen=True)
class Callbacks:
    """What the gateways hand back to the rest of ShopSMS, given by create_app."""

    # The configuration with head office's gateway settings applied over it.
    config: Callable[[Mapping], dict]
    # Delivery reports: (gateway name, [Report]).
    reports: Callable[[str, list[Report]], Any]
    # An inbound SMS: (gateway name, sender, text, to=…).
    inbound: Callable[..., Any]
    # A link's state for the supervision page: (link, ok, detail).
    link_status: Callable[..., Any]
    # The outbox's simulated reports of these message ids, that long after the commit.
    reports_later: Callable[[list[int], timedelta], Any]


def connect(app, callbacks: Callbacks) -> None:
    app.extensions["shopsms.gateways"] = callbacks


def callbacks() -> Callbacks:
    """The app's callbacks (inside an app context)."""
    return current_app.extensions["shopsms.gateways"]


class GatewayUnavailable(RuntimeError):
    """The gateway cannot take messages now (refused bind, server out of reach) and
    nothing handed to it left. `reason` is for people (« Connexion SMPP refusée : mot de
    passe »), never a secret; str() adds what an operator needs to look it up."""

    def __init__(self, reason, detail=""):
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.reason = reason


class Gateway(Protocol):
    name: str
    # True when submitting writes in our own database transaction (the outbox), so the
    # claim, the submission and its record commit together.
    transactional: bool

    def submit(self, messages: list[OutgoingSms]) -> list[Submitted]: ...

    def received(self, message_ids: list[int]) -> set[int] | None:
        """Which of these the gateway took, for recovery after a worker died;
        None when the gateway cannot say (its delivery reports will)."""

    def after_commit(self) -> None:
        """Work that must wait for the commit (the outbox's delivery reports)."""

    # Optional: `open()` makes the link ready before a batch is claimed (raises
    # GatewayUnavailable), and `link_name` names it in services/link_status.py.
    # `submit_later(messages)` starts their submission and returns one Future of its
    # Submitted per message, in order (services/sending.py: the next chunk's requests
    # queue behind this one's, so the link never waits for our commits). Only for a
    # gateway whose delivery reports settle the rows a failing link leaves "submitting"
    # (received() is None): its failure goes up, both chunks in flight left for them.


def settings_config():
    """The configuration with head office's gateway settings applied over it; the plain
    configuration when nobody set any (a new deployment, the tests of the peers)."""
    return callbacks().config(current_app.config)


def active_name():
    """The gateway in service: head office's choice, else SMS_GATEWAY. Every page shows
    it (the simulation banner), error pages included: a database that cannot answer
    falls back to the configuration rather than break the page that reports it."""
    try:
        return settings_config()["SMS_GATEWAY"]
    except SQLAlchemyError:
        db.session.rollback()
        return current_app.config["SMS_GATEWAY"]
