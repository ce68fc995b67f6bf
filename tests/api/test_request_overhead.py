"""Per-request work the REST path does not repeat: FastAPI's native OpenTelemetry is decided
when the app is built, and labelled Prometheus children are kept (docs/performance.md)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram

from execflow.api import app as app_module
from execflow.api.metrics import MAX_CACHED_CHILDREN, Labelled

fastapi_telemetry = pytest.importorskip("fastapi.telemetry._api")


def test_fastapi_telemetry_is_off_without_a_configured_provider() -> None:
    assert app_module._native_telemetry() == {
        "telemetry": {"tracing": False, "metrics": False, "logs": False}
    }


def test_fastapi_telemetry_keeps_fastapis_default_with_a_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Configured:  # not one of OpenTelemetry's deferred (proxy) providers
        pass

    trace = importlib.import_module("opentelemetry.trace")
    monkeypatch.setattr(trace, "get_tracer_provider", Configured)
    assert app_module._native_telemetry() == {}


def test_fastapi_telemetry_keeps_fastapis_default_when_it_configures_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    assert app_module._native_telemetry() == {}


def test_labelled_children_are_kept_and_count_in_the_registry() -> None:
    r = CollectorRegistry()
    c = Labelled(Counter("x", "x", ["a", "b"], registry=r))
    h = Labelled(Histogram("y", "y", ["k"], buckets=(0.1, 1.0), registry=r))
    assert c("POST", "201") is c("POST", "201")
    for _ in range(3):
        c("POST", "201").inc()
        h("submit").observe(0.05)
    assert r.get_sample_value("x_total", {"a": "POST", "b": "201"}) == 3
    assert r.get_sample_value("y_count", {"k": "submit"}) == 3
    assert r.get_sample_value("y_bucket", {"k": "submit", "le": "0.1"}) == 3


def test_labelled_keeps_at_most_a_bound_of_children() -> None:
    r = CollectorRegistry()
    c: Labelled[Any] = Labelled(Counter("z", "z", ["m"], registry=r))
    for i in range(MAX_CACHED_CHILDREN + 10):
        c(str(i)).inc()
    assert len(c._children) == MAX_CACHED_CHILDREN
    c(str(MAX_CACHED_CHILDREN + 5)).inc()  # past the bound: labels() each time, still counted
    assert r.get_sample_value("z_total", {"m": str(MAX_CACHED_CHILDREN + 5)}) == 2
