"""Schemathesis against the served OpenAPI document: generated requests (valid ones and
broken ones) on every operation never get a server error, always get JSON, and every
answer has a documented status and matches its declared schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from shopsms.extensions import db
from shopsms.models import Store
from shopsms.services import api_tokens
from shopsms.web import openapi

SCHEMA = schemathesis.openapi.from_dict(openapi.document())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES = 12  # per operation and mode: the whole test stays well under a minute
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_app(app, store, redis_client):
    app.config["API_RATE_PER_MINUTE"] = 100_000
    with app.app_context():
        db.session.add(Store(code="002", name="Bayonne"))
        db.session.commit()
        head_office = api_tokens.create("Siège")[1]
        one_store = api_tokens.create("Caisse 001", store_id=store.id)[1]
    return app, {"head office": head_office, "store": one_store}


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value
)
def test_no_server_error_on_generated_requests(api_app, operation, mode):
    app, tokens = api_app

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case):
        for token in tokens.values():
            response = case.call(app=app, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, (case.as_curl_command(), response.text)
            content_type = response.headers.get("content-type", [""])[0]
            assert content_type.startswith("application/json"), (
                case.as_curl_command(),
                response.status_code,
                response.text[:200],
            )
            case.validate_response(response, checks=CHECKS)

    check()
