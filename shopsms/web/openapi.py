"""The API's OpenAPI 3.0 document, built from the same field lists as the import."""

from ..services.imports.fields import FIELDS, french

AMOUNTS = {"amount", "client_price", "deposit"}
BOOLEANS = {"sms_refuses_all", "email_consent", "post_consent", "npai", "is_prospect"}


def _property(field):
    description = french(field.label)
    max_length = getattr(field.parse, "max_length", None)
    if field.name in AMOUNTS:
        return {
            "description": f"{description} (359.00 ou « 359,00 »)",
            "oneOf": [{"type": "number"}, {"type": "string", "maxLength": 20}],
            "nullable": True,
        }
    if field.name in BOOLEANS:
        return {"description": description, "type": "boolean", "nullable": True}
    schema = {"description": description, "type": "string", "nullable": not field.required}
    if max_length:
        schema["maxLength"] = max_length
    if field.name == "sms_consent":
        schema["description"] += " : accepted, refused ou vide (inconnu)"
    return schema


def _items_schema(kind):
    fields = FIELDS[kind]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [field.name for field in fields if field.required],
        "properties": {field.name: _property(field) for field in fields},
    }


ERROR = {
    "type": "object",
    "required": ["message", "field"],
    "properties": {"message": {"type": "string"}, "field": {"type": "string"}},
}


def _per_item(key):
    return {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["index", "external_id", key],
            "properties": {
                "index": {"type": "integer"},
                "external_id": {"type": "string"},
                key: {"type": "array", "items": ERROR},
            },
        },
    }


RESULT = {
    "type": "object",
    "required": ["received", "created", "updated", "unchanged", "rejected", "warnings"],
    "properties": {
        "received": {"type": "integer", "minimum": 0},
        "created": {"type": "integer", "minimum": 0},
        "updated": {"type": "integer", "minimum": 0},
        "unchanged": {"type": "integer", "minimum": 0},
        "rejected": _per_item("errors"),
        # Imported, but a cell was left aside (a STOP client's « Oui », « M. et Mme »).
        "warnings": _per_item("warnings"),
    },
}
_MOMENT = {"type": "string", "format": "date-time", "nullable": True}
CAMPAIGN = {
    "type": "object",
    "required": ["id", "kind", "status", "name", "recipients", "messages"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string"},
        "status": {"type": "string"},
        "name": {"type": "string"},
        "recipients": {"type": "integer"},
        "messages": {"type": "object"},
        "scheduled_at": _MOMENT,
        "started_at": _MOMENT,
        "finished_at": _MOMENT,
    },
}
MESSAGE = {
    "type": "object",
    "required": ["id", "campaign_id", "state"],
    "properties": {
        "id": {"type": "integer"},
        "campaign_id": {"type": "integer"},
        "state": {"type": "string"},
        "skip_reason": {"type": "string", "nullable": True},
        "error": {"type": "string", "nullable": True},
        "parts": {"type": "integer", "nullable": True},
        "submitted_at": _MOMENT,
        "done_at": _MOMENT,
    },
}
READY = {
    "type": "object",
    "required": ["external_id", "status", "campaign_id"],
    "properties": {
        "external_id": {"type": "string"},
        "status": {"type": "string", "enum": ["ready"]},
        "campaign_id": {"type": "integer", "nullable": True},
    },
}


def _errors(*codes):
    names = {
        400: "JSON invalide",
        401: "Jeton manquant, inconnu ou révoqué",
        404: "Introuvable",
        405: "Méthode non acceptée",
        409: "Conflit",
        413: "Requête ou lot trop gros",
        415: "Pas du JSON",
        422: "Corps mal formé",
        429: "Trop de requêtes",
    }
    return {
        str(code): {
            "description": names[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


def _batch(kind, summary):
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["items"],
                            "properties": {
                                "items": {
                                    "type": "array",
                                    "maxItems": 1000,
                                    "items": {"$ref": f"#/components/schemas/{kind}"},
                                }
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Lignes créées, modifiées, inchangées et rejetées",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Result"}}
                    },
                },
                **_errors(400, 401, 413, 415, 422, 429),
            },
        }
    }


def _read(summary, name, schema):
    return {
        "get": {
            "summary": summary,
            "parameters": [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                },
            ],
            "responses": {
                "200": {
                    "description": "État",
                    "content": {"application/json": {"schema": {"$ref": schema}}},
                },
                **_errors(401, 404, 429),
            },
        }
    }


def document():
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ShopSMS API",
            "version": "1",
            "description": (
                "Synchronisation avec le logiciel de caisse : clients, ventes et fiches SAV "
                "par identifiant externe (lots de 1 000 au plus), état des campagnes et des "
                "SMS, fiche SAV disponible. Jeton : Paramètres > API, en-tête "
                "« Authorization: Bearer <jeton> »."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/clients": _batch("Client", "Créer ou mettre à jour des clients"),
            "/purchases": _batch("Purchase", "Créer ou mettre à jour des ventes"),
            "/repair-tickets": _batch("RepairTicket", "Créer ou mettre à jour des fiches SAV"),
            "/repair-tickets/{external_id}/ready": {
                "post": {
                    "summary": "Fiche SAV disponible (retour atelier) : SMS selon les "
                    "paramètres SAV",
                    "parameters": [
                        {
                            "name": "external_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 64},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "Fiche disponible (déjà prévenue : la même "
                            "campagne, pas de second SMS)",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Ready"}
                                }
                            },
                        },
                        **_errors(401, 404, 409, 429),
                    },
                }
            },
            "/campaigns/{campaign_id}": _read(
                "État d'une campagne", "campaign_id", "#/components/schemas/Campaign"
            ),
            "/messages/{message_id}": _read(
                "État d'un SMS", "message_id", "#/components/schemas/Message"
            ),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Client": _items_schema("clients"),
                "Purchase": _items_schema("purchases"),
                "RepairTicket": _items_schema("repairs"),
                "Result": RESULT,
                "Error": ERROR,
                "Campaign": CAMPAIGN,
                "Message": MESSAGE,
                "Ready": READY,
            },
        },
    }
