"""Generated requests against the OpenAPI document (schemathesis): whatever a client
sends, the API never answers 5xx, and every answer matches the documented schema."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi.checks import positive_data_acceptance

from newsflow.settings import Settings
from newsflow.store.api_keys import create_api_key
from newsflow.store.db import transaction

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = 250
# the push endpoints take small inputs, and each case streams or checks a URL: fewer cases
PUSH_EXAMPLES_PER_OPERATION = 60


# EXAMPLES_PER_OPERATION for every operation: past the default 300 s on a loaded machine
@pytest.mark.timeout(900)
def test_generated_requests_never_get_5xx_and_match_the_schema(settings: Settings) -> None:
    from api.app import create_app

    # a queue no worker reads: the generated articles need not be processed, and must not
    # delay the tests that run after this one
    app = create_app(
        settings.model_copy(
            update={
                "rate_limit_per_minute": 0,
                "auth": "required",
                "queue": "newsflow.fuzz",
                # event streams end at once; no webhook URL passes (no port is allowed), so
                # no generated subscription makes the tests' worker deliver anywhere
                "stream_max_seconds": 0.01,
                "webhook_allowed_ports": [],
            }
        )
    )
    with transaction(settings.require_database_url()) as connection:
        admin = create_api_key(connection, name="fuzz", scopes=("admin",))
    headers = {"Authorization": f"Bearer {admin.key}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    sent: Counter[str] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]

    for operation in operations:
        push = operation.path.startswith("/v1/webhooks") or operation.path == "/v1/feed/stream"

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=PUSH_EXAMPLES_PER_OPERATION if push else EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def generated(case: schemathesis.Case) -> None:
            # Reusing a key with another body is refused by design (422, as the IETF draft
            # says); generated keys repeat across cases, so make each one unique
            for name in list(case.headers or {}):
                if name.lower() == "idempotency-key":
                    case.headers[name] = f"{case.headers[name]}-{uuid.uuid4().hex}"[:255]
            # schema conformance, no server errors, and invalid keys refused; a JSON Schema
            # cannot describe a valid RSS or NDJSON document, nor a URL webhooks may reach,
            # so there a 422 is no false refusal
            excluded: list[CheckFunction] = (
                [positive_data_acceptance]
                if case.operation.path == "/v1/feeds"
                or case.operation.path.startswith("/v1/webhooks")
                or case.media_type == "application/x-ndjson"
                else []
            )
            response = case.call_and_validate(headers=headers, excluded_checks=excluded)
            sent[case.operation.label] += 1
            assert response.status_code < 500

        generated()

    assert len(sent) == len(operations)  # every endpoint was exercised
    assert sum(sent.values()) >= 1000, sent
