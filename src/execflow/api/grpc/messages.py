"""The gRPC messages of the API's views (:mod:`execflow.api.views`, the algo view): each
message built field by field from the ``TypedDict`` REST answers with, so ``mypy --strict``
checks both sides (tests/api/test_grpc.py checks no view field is left out); None leaves an
optional field unset."""

from __future__ import annotations

from collections.abc import Sequence

from execflow.api.grpc.gen import execflow_pb2 as pb2
from execflow.api.views import GroupAckView, GroupView, OrderAckView, OrderView
from execflow.application.algos.view import AlgoView


def order(v: OrderView) -> pb2.Order:
    """The REST order view as a gRPC ``Order`` (None: the optional field left unset)."""
    i = v["instructions"]
    return pb2.Order(
        cl_ord_id=v["cl_ord_id"], account=v["account"], instrument=v["instrument"],
        side=v["side"], order_type=v["order_type"], time_in_force=v["time_in_force"],
        quantity=v["quantity"], price=v["price"], status=v["status"],
        filled_quantity=v["filled_quantity"], leaves_quantity=v["leaves_quantity"],
        average_price=v["average_price"], venue=v["venue"], venue_order_id=v["venue_order_id"],
        reject_code=v["reject_code"], reject_reason=v["reject_reason"],
        created_at=v["created_at"], updated_at=v["updated_at"], version=v["version"],
        stop_price=v["stop_price"], trigger_price=v["trigger_price"],
        trail_offset=v["trail_offset"], trail_bps=v["trail_bps"], group_id=v["group_id"],
        role=v["role"], parent_id=v["parent_id"], is_parent=v["is_parent"],
        expire_at=v["expire_at"], instructions=None if i is None else pb2.OrderInstructions(**i),
    )  # fmt: skip


def order_ack(a: OrderAckView) -> pb2.OrderAck:
    return pb2.OrderAck(**a)


def members(view: GroupAckView | GroupView) -> list[pb2.GroupMember]:
    return [pb2.GroupMember(**m) for m in view["members"]]


def group_ack(ack: GroupAckView) -> pb2.GroupAck:
    return pb2.GroupAck(
        group_id=ack["group_id"], kind=ack["kind"], status=ack["status"],
        account=ack["account"], members=members(ack),
    )  # fmt: skip


def group(view: GroupView) -> pb2.Group:
    return pb2.Group(
        group_id=view["group_id"], kind=view["kind"], account=view["account"],
        status=view["status"], members=members(view),
        orders=[order(o) for o in view["orders"]],
    )  # fmt: skip


def algo(v: AlgoView, kids: Sequence[OrderView] = ()) -> pb2.Algo:
    params = {k: str(x).lower() if isinstance(x, bool) else str(x)
              for k, x in v["params"].items() if x is not None}  # fmt: skip
    return pb2.Algo(
        algo_id=v["algo_id"], kind=v["kind"], state=v["state"], account=v["account"],
        instrument=v["instrument"], side=v["side"], quantity=v["quantity"],
        filled=v["filled"], avg_px=v["avg_px"], price=v["price"], start_at=v["start_at"],
        end_at=v["end_at"], children=v["children"], parent_status=v["parent_status"],
        arrival_mid=v["arrival_mid"], params=params,
        child_orders=[order(o) for o in kids],
        market_vwap=v["market_vwap"], vs_market_vwap_bps=v["vs_market_vwap_bps"],
        vs_arrival_bps=v["vs_arrival_bps"],
    )  # fmt: skip
