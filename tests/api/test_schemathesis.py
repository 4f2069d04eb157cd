"""Property-based fuzzing of the real app against its own OpenAPI schema (runs in the fast suite).

schemathesis generates a bounded number of requests per operation (fast models, in-thread
fitting) and applies **every** built-in check (server errors, status codes, content types,
response schemas, negative data rejection, positive data acceptance, missing required headers,
unsupported methods, ignored auth...), plus this suite's own check: every 4xx carries the
error envelope ``{"error": {"code", "message", "details"}}``. It runs twice: with API keys off
and with keys on (``TRADECAST_API_KEYS`` through ``create_app(settings)``, requests sent with a
write key so that authorisation lets generated bodies through to validation).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckContext
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
)

from api.main import create_app
from data.connectors import SourceOptions
from tests.api.conftest import READ_KEY, WRITE_KEY, make_settings
from tests.data._recorded import Recorded

# Per-operation example budget: about 40 operations x 2 apps stays under ~60 s on two busy cores.
MAX_EXAMPLES = 6
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def _app(keys: bool) -> Any:
    tmp = Path(tempfile.mkdtemp(prefix="tradecast-schemathesis-"))
    overrides: dict[str, Any] = {"max_horizon": 24, "max_series_length": 200}
    if keys:
        overrides["api_keys"] = f"{READ_KEY}:read,{WRITE_KEY}:write"
    app = create_app(make_settings(tmp, **overrides))
    # The /docs examples name real source queries: answer them from the recordings, never the network.
    app.state.source_options = SourceOptions(transport=Recorded().transport)
    return app


open_schema = schemathesis.openapi.from_asgi("/openapi.json", _app(keys=False))
keyed_schema = schemathesis.openapi.from_asgi("/openapi.json", _app(keys=True))
AUTH = {"Authorization": f"Bearer {WRITE_KEY}"}


def error_envelope_on_4xx(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """Every 4xx answers ``{"error": {"code", "message", "details"}}`` with a snake_case code."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"{response.status_code} without the envelope: {body!r}"
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, f"envelope keys {sorted(error)}"
    assert isinstance(error["code"], str) and _SNAKE.match(error["code"]), f"code {error['code']!r} not snake_case"
    assert isinstance(error["message"], str) and error["message"], "empty error message"
    return True


_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    # Same examples on every run: CI must not fail on one run and pass on the next; widen
    # the search locally with MAX_EXAMPLES or by removing this.
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


# Checks that cannot hold for this API, each for a stated reason (every other built-in runs):
# - positive_data_acceptance: the schema gives shapes, not the rules a forecast needs (enough
#   observations, a cron that fires, levels that pair...); a schema-valid body may rightly be 422.
_NEVER = [positive_data_acceptance]
# - with keys off the schema still documents the bearer scheme (a deployment decides), and the
#   service rightly answers without one: the three checks that want a 401 for a missing
#   Authorization header do not apply there. The keyed run keeps them all.
_KEYS_OFF = [*_NEVER, ignored_auth, missing_required_header, negative_data_rejection]


@open_schema.parametrize()
@_SETTINGS
def test_api_without_keys_passes_every_check(case: Any) -> None:
    case.call_and_validate(additional_checks=[error_envelope_on_4xx], excluded_checks=_KEYS_OFF)


@keyed_schema.parametrize()
@_SETTINGS
def test_api_with_keys_passes_every_check(case: Any) -> None:
    case.call_and_validate(headers=AUTH, additional_checks=[error_envelope_on_4xx], excluded_checks=_NEVER)
