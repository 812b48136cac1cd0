"""Fuzzing the API from its own OpenAPI document with schemathesis: no input gives a 5xx.

Every operation is called with generated (valid and invalid) parameters and bodies,
as an admin so the requests reach the services rather than stopping at the role check.
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from web.helpers import make_film  # noqa: E402


@pytest.fixture
def database_url() -> None:
    """SQLite only: the fuzzing is about the edges, which are the same on both databases."""
    return None


@pytest.fixture
def fuzz_film(production: Any, make: Any) -> Any:
    # A live stream ends after a second here: its parameters are what is fuzzed.
    return make_film(production, make, stream_seconds=1, poll_seconds=0.05)


@pytest.mark.slow
def test_no_input_gives_a_server_error(fuzz_film: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_film.app)
    headers = {"Authorization": f"Bearer {fuzz_film.tokens['ana']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    for operation in operations:

        @hypothesis.settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(hypothesis.HealthCheck),
            database=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
            case.validate_response(response, checks=[schemathesis.checks.not_a_server_error])

        call()
    assert not failures
