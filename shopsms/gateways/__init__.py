"""SMS gateways: one protocol, chosen by SMS_GATEWAY (outbox, kannel, smpp), which head
office may override in « Paramètres » (gateway and credentials, kept in the database).

A gateway only talks to the outside. The sending service claims the rows, records
the answers and commits; delivery reports and inbound messages, whichever gateway
brings them, go through services/delivery.py and services/inbound.py, which the
gateways reach through the Callbacks create_app gives them: a gateway never imports
a service.
"""

from .base import (  # noqa: F401 (the gateways' shared types, re-exported)
    Callbacks,
    Gateway,
    GatewayUnavailable,
    OutgoingSms,
    Report,
    Submitted,
    active_name,
    callbacks,
    connect,
    settings_config,
)
from .kannel import KannelGateway
from .outbox import OutboxGateway
from .smpp import SmppGateway


def get_gateway(name=None) -> Gateway:
    config = settings_config()
    name = name or config["SMS_GATEWAY"]
    if name == "outbox":
        return OutboxGateway()
    if name == "kannel":
        return KannelGateway.from_config(config)
    if name == "smpp":
        return SmppGateway.from_config(config)
    raise ValueError(f"SMS_GATEWAY inconnu : {name!r} (outbox, kannel ou smpp)")
