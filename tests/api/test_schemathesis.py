"""Property-based run of schemathesis against the app's own OpenAPI schema.

A bounded number of generated requests per operation (fast models, in-thread fitting):
no response may be a 5xx, and every response must match its documented status and schema.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from tests.api.conftest import make_settings

_tmp = Path(tempfile.mkdtemp(prefix="tradecast-schemathesis-"))
app = create_app(make_settings(_tmp, max_horizon=24, max_series_length=200))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_api_conforms_to_its_schema(case):
    case.call_and_validate(checks=CHECKS)
