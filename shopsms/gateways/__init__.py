"""SMS gateways: one protocol, chosen by SMS_GATEWAY (outbox, kannel, smpp).

A gateway only talks to the outside. The sending service claims the rows, records
the answers and commits; delivery reports and inbound messages, whichever gateway
brings them, go through services/delivery.py and services/inbound.py.
"""

from dataclasses import dataclass
from typing import Protocol

from flask import current_app


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
    error: str = ""  # refused: the reason, in French, for the report

    @property
    def accepted(self):
        return not self.error


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


def get_gateway(name=None) -> Gateway:
    name = name or current_app.config["SMS_GATEWAY"]
    if name == "outbox":
        from .outbox import OutboxGateway

        return OutboxGateway()
    if name == "kannel":
        from .kannel import KannelGateway

        return KannelGateway.from_config(current_app.config)
    if name == "smpp":
        from .smpp import SmppGateway

        return SmppGateway.from_config(current_app.config)
    raise ValueError(f"SMS_GATEWAY inconnu : {name!r} (outbox, kannel ou smpp)")
