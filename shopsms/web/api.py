"""The point of sale's API (JSON over HTTP): upsert clients, purchases and repair
tickets by external id, read a campaign's and a message's status, say a repair ticket
is ready. A token per store or for head office (Authorization: Bearer …); errors are
JSON with a `message` from the catalogue (French: an API caller has no chosen language)
and the failing `field`."""

import contextlib
import logging
import time

import redis
from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import csrf, db
from ..models import Campaign, Message, RepairTicket
from ..queue import get_redis, local_keys
from ..services import api_tokens, campaigns
from ..services.imports import Row, Scope, parse_row, upsert
from ..services.imports.fields import FIELDS
from ..services.repairs import RepairError, ticket_ready
from ..sms.said import N_, readable
from . import openapi

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

MAX_BODY_BYTES = 1024 * 1024
MAX_BATCH = 1000
RATE_PER_MINUTE = 600
MAX_ID = 2**31 - 1  # larger ids exist nowhere, and overflow some databases' integers
KINDS = {"clients": "clients", "purchases": "purchases", "repair-tickets": "repairs"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SERVER_ERROR = _l(
    "Erreur interne du serveur : rien n'a été enregistré pour cette requête. Réessayez ; "
    "si l'erreur revient, contactez le support."
)


# The consent proof's note, kept as its French words (the card says it in the reader's
# language: formats.said reads it again).
CONSENT_NOTE = N_("API, jeton n° %(id)s « %(name)s »")
readable(CONSENT_NOTE)


class ApiError(Exception):
    def __init__(self, status, message, field="", **extra):
        super().__init__(message)
        self.status, self.message, self.field, self.extra = status, message, field, extra


def error(status, message, field="", **extra):
    response = jsonify({"message": str(message), "field": field, **extra})
    response.status_code = status
    return response


@bp.errorhandler(ApiError)
def _api_error(exc):
    return error(exc.status, exc.message, exc.field, **exc.extra)


@bp.errorhandler(HTTPException)
def _http_error(exc):
    messages = {
        400: _l("Requête invalide."),
        404: _l("Introuvable."),
        405: _l("Méthode non acceptée sur cette adresse."),
        413: _too_big(MAX_BODY_BYTES),
        500: SERVER_ERROR,
    }
    return error(exc.code or 500, messages.get(exc.code, _l("Erreur.")))


def _too_big(limit):
    return _("Requête trop grosse : %(size)s Kio au plus.", size=limit // 1024)


@bp.errorhandler(Exception)
def _server_error(exc):
    """An unexpected error: logged with its traceback, answered in JSON."""
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    db.session.rollback()
    log.exception("API error on %s %s", request.method, request.path)
    return _http_error(InternalServerError())


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi_document":
        return None
    limit = current_app.config.get("API_MAX_BODY_BYTES", MAX_BODY_BYTES)
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        return error(413, _too_big(limit), "")
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error(
            401,
            _("Jeton manquant : envoyez l'en-tête « Authorization: Bearer <jeton> »."),
            "Authorization",
        )
    row = api_tokens.authenticate(token.strip())
    if row is None:
        return error(401, _("Jeton inconnu : vérifiez-le dans Paramètres > API."), "Authorization")
    if row.revoked_at is not None:
        return error(401, _("Jeton révoqué : demandez-en un nouveau au siège."), "Authorization")
    g.api_token_id, g.api_store_id, g.api_token_name = row.id, row.store_id, row.name
    return _rate_limit(row.id)


def _rate_limit(token_id):
    """A fixed one-minute window per token in Redis: enough to stop a runaway loop."""
    per_minute = current_app.config.get("API_RATE_PER_MINUTE", RATE_PER_MINUTE)
    window = int(time.time() // 60)
    key = f"shopsms:api-rate:{token_id}:{window}"
    try:
        pipe = get_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        count = pipe.execute()[0]
    except redis.RedisError:  # Redis away: counted in this process (see LocalKeys)
        count = local_keys.incr(key, 120)
    if count > per_minute:
        response = error(
            429,
            _(
                "Trop de requêtes : %(num)s par minute au plus. Réessayez dans un instant.",
                num=per_minute,
            ),
        )
        response.headers["Retry-After"] = str(60 - int(time.time()) % 60)
        return response
    return None


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


def _body():
    if not request.is_json:
        raise ApiError(415, _("Envoyez du JSON (Content-Type: application/json)."), "Content-Type")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: not a client file
        data = None
    if data is None:
        raise ApiError(400, _("JSON invalide : le corps de la requête ne se lit pas."), "")
    if not isinstance(data, dict):
        raise ApiError(422, _("Le corps doit être un objet JSON."), "")
    return data


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float | str):
        return str(value)
    raise TypeError


def _items(kind):
    data = _body()
    items = data.get("items")
    if not isinstance(items, list):
        raise ApiError(422, _("« items » doit être une liste d'objets."), "items")
    if len(items) > MAX_BATCH:
        raise ApiError(
            413,
            _(
                "Lot trop grand : %(most)s éléments au plus par requête (ici %(num)s).",
                most=MAX_BATCH,
                num=len(items),
            ),
            "items",
        )
    known = {field.name for field in FIELDS[kind]}
    rows = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rows.append(
                Row(line=index, values={}, errors=[("", _("Chaque élément doit être un objet."))])
            )
            continue
        errors, raw = [], {}
        for key, value in item.items():
            if key not in known:
                errors.append((key, _("Champ inconnu « %(name)s ».", name=key)))
                continue
            try:
                raw[key] = _cell(value)
            except TypeError:
                errors.append(
                    (key, _("Valeur de type non accepté : texte, nombre, booléen ou null."))
                )
        warnings = []
        values, parse_errors = parse_row(kind, raw, warnings)
        rows.append(
            Row(
                line=index, values=values, errors=errors + parse_errors, raw=item, warnings=warnings
            )
        )
    return rows


def _scope():
    # The consent proof says which token (so which point of sale) wrote it.
    note = N_(CONSENT_NOTE, id=g.api_token_id, name=g.api_token_name)
    return Scope(store_id=g.api_store_id, how="api", note=note[:200])


def _upsert(kind):
    rows = _items(kind)
    try:
        outcome = upsert(kind, rows, _scope())
        db.session.commit()
    except IntegrityError:
        # Another writer created the same external id (or brand) meanwhile: its rows
        # exist now, so the batch goes again and updates them.
        db.session.rollback()
        rows = _items(kind)
        outcome = upsert(kind, rows, _scope())
        db.session.commit()
    warnings = [
        {
            "index": row.line,
            "external_id": row.external_id,
            "warnings": [
                {"field": field, "message": str(message)} for field, message in row.warnings
            ],
        }
        for row in sorted(outcome.warned, key=lambda row: row.line)
    ]
    rejected = [
        {
            "index": row.line,
            "external_id": row.values.get("external_id") or "",
            "errors": [{"field": field, "message": str(message)} for field, message in row.errors],
        }
        for row in sorted(outcome.rejected, key=lambda row: row.line)
    ]
    return jsonify(
        received=len(rows),
        created=outcome.created,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
        rejected=rejected,
        warnings=warnings,
    )


@bp.post("/clients")
def upsert_clients():
    return _upsert("clients")


@bp.post("/purchases")
def upsert_purchases():
    return _upsert("purchases")


@bp.post("/repair-tickets")
def upsert_repair_tickets():
    return _upsert("repairs")


@bp.post("/repair-tickets/<external_id>/ready")
def repair_ticket_ready(external_id):
    ticket = db.session.scalar(select(RepairTicket).where(RepairTicket.external_id == external_id))
    if ticket is None or (g.api_store_id is not None and ticket.store_id != g.api_store_id):
        raise ApiError(
            404, _("Aucune fiche SAV n'a l'identifiant « %(id)s ».", id=external_id), "external_id"
        )
    earlier = _earlier_notice(ticket)
    if earlier is not None:
        # Said twice (a retry after a timeout): the client was told once, once is enough.
        return jsonify(external_id=external_id, status="ready", campaign_id=earlier[0])
    if not _claim_ready(ticket.id):
        raise ApiError(
            409,
            _("Cette fiche est en cours de traitement : réessayez dans un instant."),
            "external_id",
        )
    try:
        campaign_id = ticket_ready(ticket.id)
        db.session.commit()
    except RepairError as exc:
        raise ApiError(409, str(exc), "external_id") from exc
    finally:
        _release_ready(ticket.id)
    return jsonify(external_id=external_id, status="ready", campaign_id=campaign_id)


def _earlier_notice(ticket):
    """(campaign id or None) when the ticket is already « Disponible » and was told (or
    its return was already handled); None when the ready call must do its work."""
    if ticket.status != "ready":
        return None
    campaign_id = db.session.scalar(
        select(Message.campaign_id)
        .join(Campaign, Campaign.id == Message.campaign_id)
        .where(Message.repair_ticket_id == ticket.id, Campaign.kind == "workshop_return")
        .order_by(Message.id.desc())
        .limit(1)
    )
    if campaign_id is not None or ticket.notified_at is not None:
        return (campaign_id,)
    return None


def _claim_ready(ticket_id):
    """Two « ready » calls at the same moment: only one sends (a short Redis lock)."""
    try:
        return bool(get_redis().set(f"shopsms:api-ready:{ticket_id}", "1", nx=True, ex=30))
    except redis.RedisError:
        return local_keys.set_once(f"shopsms:api-ready:{ticket_id}", 30)


def _release_ready(ticket_id):
    local_keys.delete(f"shopsms:api-ready:{ticket_id}")
    with contextlib.suppress(redis.RedisError):
        get_redis().delete(f"shopsms:api-ready:{ticket_id}")


def _campaign(campaign_id):
    campaign = db.session.get(Campaign, campaign_id) if 0 < campaign_id <= MAX_ID else None
    if campaign is None or (g.api_store_id is not None and campaign.store_id != g.api_store_id):
        raise ApiError(404, _("Aucune campagne n° %(id)s.", id=campaign_id), "campaign_id")
    return campaign


@bp.get("/campaigns/<int:campaign_id>")
def campaign_status(campaign_id):
    campaign = _campaign(campaign_id)
    return jsonify(
        id=campaign.id,
        kind=campaign.kind,
        status=campaign.status,
        name=campaign.name,
        recipients=campaign.recipients_count,
        messages=campaigns.progress(campaign.id),
        scheduled_at=_iso(campaign.scheduled_at),
        started_at=_iso(campaign.started_at),
        finished_at=_iso(campaign.finished_at),
    )


@bp.get("/messages/<int:message_id>")
def message_status(message_id):
    message = db.session.get(Message, message_id) if 0 < message_id <= MAX_ID else None
    if message is None:
        raise ApiError(404, _("Aucun SMS n° %(id)s.", id=message_id), "message_id")
    campaign = db.session.get(Campaign, message.campaign_id)
    if g.api_store_id is not None and campaign.store_id != g.api_store_id:
        raise ApiError(404, _("Aucun SMS n° %(id)s.", id=message_id), "message_id")
    return jsonify(
        id=message.id,
        campaign_id=message.campaign_id,
        state=message.state,
        skip_reason=message.skip_reason,
        error=message.error,
        parts=message.parts,
        submitted_at=_iso(message.submitted_at),
        done_at=_iso(message.done_at),
    )


@bp.route("/<path:anything>", methods=list(METHODS))
def unknown(anything):
    """Every answer under /api/v1 is JSON, even for an address that does not exist;
    an address that exists with another method says which methods (405)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in METHODS:
        try:
            endpoint, _args = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != "api.unknown":
            allowed.append(method)
    if allowed:
        response = error(
            405,
            _(
                "Méthode %(method)s non acceptée sur cette adresse : %(allowed)s seulement.",
                method=request.method,
                allowed=", ".join(allowed),
            ),
            "",
        )
        response.headers["Allow"] = ", ".join(allowed)
        return response
    raise ApiError(404, _("Adresse inconnue de l'API : /%(path)s.", path=anything), "")


def _iso(moment):
    return moment.isoformat() + "Z" if moment else None
