"""The committed gRPC modules (execflow/api/grpc/gen) are what the pinned generators write for
execflow.proto now, the servicer implements every RPC of the service, and the messages built
from the REST views have a field for each of the view's keys (none read back over REST only)."""

from __future__ import annotations

from execflow.api.grpc import codegen
from execflow.api.grpc.gen import execflow_pb2
from execflow.api.grpc.server import Servicer
from execflow.api.views import InstructionsView, OrderView


def test_committed_modules_are_current() -> None:
    assert codegen.stale() == [], "run `make grpc` (python -m execflow.api.grpc.codegen)"


def test_check_command(capsys) -> None:  # type: ignore[no-untyped-def]
    assert codegen.main(["--check"]) == 0
    assert capsys.readouterr().out.strip() == "gRPC modules: current"


def test_every_rpc_is_served() -> None:
    service = execflow_pb2.DESCRIPTOR.services_by_name["Execflow"]
    missing = [m.name for m in service.methods if m.name not in vars(Servicer)]
    assert missing == []


def test_order_messages_carry_every_field_of_the_rest_view() -> None:
    for view, message in ((OrderView, execflow_pb2.Order),
                          (InstructionsView, execflow_pb2.OrderInstructions)):  # fmt: skip
        assert set(view.__annotations__) == set(message.DESCRIPTOR.fields_by_name), message
