"""Gateways calling us back: Kannel's delivery reports and the SMS clients send.

No login here, so each call must prove itself: a report carries the signature of
the message id we put in its dlr-url, an inbound SMS the shared HOOKS_SECRET.
Whatever a caller sends, it gets a short answer, never a server error.
"""

import hmac

from flask import Blueprint, current_app, request

from ..extensions import csrf
from ..gateways.kannel import dlr_error, sign
from ..services import delivery, inbound

bp = Blueprint("hooks", __name__, url_prefix="/hooks")
csrf.exempt(bp)  # callers are gateways, not browsers: the secret stands in for the token

# Kannel sends this body back to the phone: GSM-7 and one SMS, so it costs one part.
STOP_REPLY = "Vous ne recevrez plus de SMS publicitaires."

# Kannel's DLR types (%d) → our state; 4 (queued on the SMSC) tells nothing new.
_KANNEL_STATES = {8: "submitted", 1: "delivered", 2: "failed", 16: "failed"}
_KANNEL_IGNORED = {4}


def _plain(body, status=200):
    return body, status, {"Content-Type": "text/plain; charset=utf-8"}


def _same(given, expected):
    return hmac.compare_digest(given.encode(), expected.encode())


@bp.get("/kannel/dlr")
def kannel_dlr():
    message_id, signature = request.args.get("id", ""), request.args.get("sig", "")
    if not message_id.isdigit() or len(message_id) > 18:
        return _plain("id invalide", 400)
    if not _same(signature, sign(current_app.config["HOOKS_SECRET"], int(message_id))):
        return _plain("signature invalide", 403)
    try:
        status = int(request.args.get("status", ""))
    except ValueError:
        return _plain("statut invalide", 400)
    if status in _KANNEL_IGNORED:
        return _plain("OK")
    if status not in _KANNEL_STATES:
        return _plain("statut inconnu", 400)
    error = dlr_error(status, request.args.get("answer", "").strip())
    report = delivery.Report(_KANNEL_STATES[status], message_id=int(message_id), error=error)
    delivery.record("kannel", [report])
    return _plain("OK")


@bp.get("/kannel/mo")
def kannel_mo():
    if not _same(request.args.get("secret", ""), current_app.config["HOOKS_SECRET"]):
        return _plain("secret invalide", 403)
    sender = request.args.get("from", "").strip()
    if not sender:
        return _plain("expéditeur manquant", 400)
    text, to = request.args.get("text", ""), request.args.get("to", "")
    message = inbound.receive("kannel", sender[:20], text[:2000], to=to[:20])
    # An empty body sends nothing back (the sms-service has `omit-empty = true`).
    return _plain(STOP_REPLY if message.is_stop else "")
