"""The parent/worker protocol: every message round-trips, anything else is a protocol error."""

from __future__ import annotations

import json

import pytest

from portabench.cases import CaseDescriptor
from portabench.frameworks.timer import TimingConfig
from portabench.protocol import (
    PROTOCOL_VERSION,
    REQUESTS,
    ApiReply,
    CaseReply,
    CoverageReply,
    CoverageRequest,
    DevicesReply,
    ErrorReply,
    HelloRequest,
    ListCasesRequest,
    ListingReply,
    ModelsReply,
    Op,
    ProtocolError,
    RunCaseRequest,
    ShutdownReply,
    WorkerInfo,
    decode_reply,
    decode_request,
    encode_reply,
    encode_request,
)

CASE = CaseDescriptor("torch.add", "spec:x.toml#a", "float32", 1, random=True, extra={"spec_file": "x.toml"})
REQUEST_EXAMPLES = [
    HelloRequest(), CoverageRequest(specs=["a.toml"]),
    ListCasesRequest(functions=None, dtypes=["float32"], specs=[], max_samples=3),
    RunCaseRequest(case=CASE, timing=TimingConfig(min_repeats=2, budget_s=0.5), do_timing=False),
]
REPLY_EXAMPLES = [
    (HelloRequest(), WorkerInfo(framework_version="1.0", device="cuda", device_kind="cuda", device_name="H200",
                                numerics={"tf32": False}, device_count=2, pid=7)),
    (REQUESTS[Op.API](), ApiReply(functions=[{"qualname": "torch.add", "kind": "function"}])),
    (CoverageRequest(), CoverageReply(api=["torch.add"], with_cases=[])),
    (REQUESTS[Op.LIST_MODELS](), ModelsReply(models=[{"name": "tv:resnet18", "family": "resnet", "size": "s"}])),
    (REQUESTS[Op.DEVICES](), DevicesReply(devices=["cpu", "cuda:0"])),
    (REQUEST_EXAMPLES[2], ListingReply(cases=[CASE], missing=["torch.nope"], claimed={"torch.add": {"cpu": ["float32"]}})),
    (REQUEST_EXAMPLES[3], CaseReply(case_id=CASE.case_id, outcome="failed", mismatch=True, max_abs_err=0.5,
                                    compile_info={"graph_breaks": 1}, left_behind=["a thread"], restart_worker=True)),
    (REQUESTS[Op.SHUTDOWN](), ShutdownReply()),
]


def test_every_op_has_one_request_class() -> None:
    assert set(REQUESTS) == set(Op)
    assert all(cls.op is op for op, cls in REQUESTS.items())


@pytest.mark.parametrize("request_", REQUEST_EXAMPLES, ids=lambda r: type(r).__name__)
def test_requests_round_trip(request_: object) -> None:
    request_id, decoded = decode_request(encode_request(5, request_))  # type: ignore[arg-type]
    assert request_id == 5 and decoded == request_


@pytest.mark.parametrize(("request_", "reply"), REPLY_EXAMPLES, ids=lambda r: type(r).__name__)
def test_replies_round_trip(request_: object, reply: object) -> None:
    assert decode_reply(encode_reply(3, reply), request_, 3) == reply  # type: ignore[arg-type]


def test_error_replies_round_trip_and_carry_the_exception() -> None:
    try:
        raise KeyError("boom")
    except KeyError as exc:
        error = ErrorReply.from_exception(exc)
    assert error.type == "KeyError" and "boom" in error.message and "Traceback" in (error.traceback or "")
    assert decode_reply(encode_reply(1, error), HelloRequest(), 1) == error


def _line(message: dict[str, object]) -> bytes:
    return (json.dumps(message) + "\n").encode()


def test_another_version_or_shape_is_a_protocol_error() -> None:
    old = _line({"v": 1, "id": 1, "op": "hello"})
    with pytest.raises(ProtocolError, match="protocol version 1, expected"):
        decode_request(old)
    with pytest.raises(ProtocolError, match="unknown op"):
        decode_request(_line({"v": PROTOCOL_VERSION, "id": 1, "op": "format_disk", "args": {}}))
    with pytest.raises(ProtocolError, match="unknown fields \\['nope'\\]"):
        decode_request(_line({"v": PROTOCOL_VERSION, "id": 1, "op": "coverage", "args": {"nope": 1}}))
    with pytest.raises(ProtocolError, match="missing fields \\['dtypes'"):
        decode_request(_line({"v": PROTOCOL_VERSION, "id": 1, "op": "list_cases", "args": {"functions": None}}))
    with pytest.raises(ProtocolError, match="not JSON"):
        decode_reply(b"Segmentation fault\n", HelloRequest(), 1)
    reply = encode_reply(2, ShutdownReply())
    with pytest.raises(ProtocolError, match="reply id 2 for request 3"):
        decode_reply(reply, REQUESTS[Op.SHUTDOWN](), 3)
    with pytest.raises(ProtocolError, match="CaseReply: unknown fields \\['bogus'\\]"):
        CaseReply.from_json({"case_id": "a", "outcome": "passed", "bogus": 1})
    with pytest.raises(ProtocolError, match="WorkerInfo: unknown fields \\[\\], missing fields \\['device'"):
        decode_reply(_line({"v": PROTOCOL_VERSION, "id": 1, "ok": True, "result": {"framework_version": "1"}}),
                     HelloRequest(), 1)


def test_case_replies_send_only_what_differs_from_the_defaults() -> None:
    assert CaseReply(case_id="c", outcome="passed", wall_ns=5).to_json() == {"case_id": "c", "outcome": "passed", "wall_ns": 5}
