"""Property-based run over the OpenAPI schema against the live server: never a 5xx, and every
documented response matches its schema. Bounded: a few examples per operation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.conftest import H_A, Server, start_server
from tests.timeouts import CLIENT_TIMEOUT_S

MAX_EXAMPLES = 7  # per operation: ~100 requests in all


@pytest.fixture(scope="module")
def st_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("schemathesis"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def api_schema(st_server: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{st_server.base}/openapi.json")


def test_api_never_answers_5xx(api_schema: schemathesis.BaseSchema, st_server: Server) -> None:
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=st_server.base,
                headers=H_A,
                checks=[not_a_server_error, response_schema_conformance],
                timeout=CLIENT_TIMEOUT_S,
            )

        try:
            run()
        except Exception as exc:  # collect every operation's failure, report them together
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 10
    served = sum(
        s.value
        for m in st_server.ctx.metrics.http_requests.collect()
        for s in m.samples
        if s.name.endswith("_total")
    )
    assert served >= operations * 2, served  # the examples really went over HTTP
    assert not failures, "\n\n".join(failures)
