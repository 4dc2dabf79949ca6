"""The versioned JSON protocol between the parent and a worker: every message is a dataclass.

Both sides import this module and nothing else of each other: the parent side
(:mod:`portabench.runner`) and the worker side (:mod:`portabench.worker`) never
import one another, and this module imports no framework.

Transport: the parent writes one JSON object per line to the worker's stdin;
the worker answers one JSON object per line on a dedicated pipe (its file
descriptor is given by ``--reply-fd``), so anything a framework prints cannot
corrupt replies. The worker's stdout and stderr both go to a log file whose
tail the parent keeps when the worker dies.

Request:  ``{"v": 2, "id": N, "op": OP, "args": {...}}``
Reply:    ``{"v": 2, "id": N, "ok": true, "result": {...}}`` or
          ``{"v": 2, "id": N, "ok": false, "error": {"type": ..., "message": ..., "traceback": ...}}``

Each :class:`Op` has one request class (``HelloRequest``...) naming its reply
class (``WorkerInfo``...). ``to_json``/``from_json`` of every message check
its fields: a missing or unknown field, another protocol version ``v`` or a
reply to another request ``id`` raises :class:`ProtocolError` (the parent then
kills the worker; the case is recorded with outcome ``error``).

Version 2 (this one) wrapped request arguments in ``args`` and made every
message strict; version 1 sent them flat and was read key by key.
"""

from __future__ import annotations

import dataclasses
import json
import traceback
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from portabench.cases import CaseDescriptor
from portabench.frameworks.timer import TimingConfig

PROTOCOL_VERSION = 2

#: how much of an exception's message and traceback a reply carries
MESSAGE_CHARS = 4000
TRACEBACK_CHARS = 4000
#: characters of a message quoted inside another one (an echoed malformed message, a nested error)
QUOTE_CHARS = 200


class ProtocolError(Exception):
    """A malformed or mismatched message."""


class Op(StrEnum):
    """The operations a worker serves."""

    HELLO = "hello"  # adapter info, device count, pid
    API = "api"  # the framework's public API
    COVERAGE = "coverage"  # API names and the functions that have cases
    LIST_MODELS = "list_models"  # the model architectures the adapter can build
    DEVICES = "devices"  # device strings usable in the worker
    LIST_CASES = "list_cases"  # the cases of a selection
    RUN_CASE = "run_case"  # execute one case
    SHUTDOWN = "shutdown"  # answer, then exit


def _check_keys(cls: type, data: Any) -> dict[str, Any]:
    """``data`` as a dict holding every required field of dataclass ``cls`` and no other key."""
    if not isinstance(data, dict):
        raise ProtocolError(f"{cls.__name__}: expected an object, got {str(data)[:QUOTE_CHARS]}")
    names = {f.name for f in dataclasses.fields(cls)}
    required = {f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    unknown = sorted(set(data) - names)
    missing = sorted(required - set(data))
    if unknown or missing:
        raise ProtocolError(f"{cls.__name__}: unknown fields {unknown}, missing fields {missing}")
    return data


M = TypeVar("M", bound="Message")


@dataclass(frozen=True)
class Message:
    """A flat message: its fields are JSON values (subclasses with nested types override the two methods)."""

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls: type[M], data: Any) -> M:
        try:
            return cls(**_check_keys(cls, data))
        except TypeError as exc:
            raise ProtocolError(f"{cls.__name__}: {exc}") from None


# ---- replies ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerInfo(Message):
    """Reply to ``hello``: the adapter's :meth:`~portabench.frameworks.base.Adapter.info`, its device count, pid."""

    framework_version: str
    device: str
    device_kind: str
    device_name: str
    numerics: dict[str, Any] = field(default_factory=dict)
    device_count: int = 1
    pid: int = 0


@dataclass(frozen=True)
class ApiReply(Message):
    """Reply to ``api``: ``[{"qualname": ..., "kind": ...}]``."""

    functions: list[dict[str, str]]


@dataclass(frozen=True)
class CoverageReply(Message):
    """Reply to ``coverage``: the API's qualified names, and the functions that have cases."""

    api: list[str]
    with_cases: list[str]


@dataclass(frozen=True)
class ModelsReply(Message):
    """Reply to ``list_models``: ``[{name, family, size}]``."""

    models: list[dict[str, Any]]


@dataclass(frozen=True)
class DevicesReply(Message):
    """Reply to ``devices``."""

    devices: list[str]


@dataclass(frozen=True)
class ListingReply(Message):
    """Reply to ``list_cases``: the cases, names unknown to the framework, names without cases, claimed dtypes."""

    cases: list[CaseDescriptor]
    missing: list[str] = field(default_factory=list)
    no_cases: list[str] = field(default_factory=list)
    claimed: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "cases": [c.to_json() for c in self.cases]}

    @classmethod
    def from_json(cls, data: Any) -> ListingReply:
        data = _check_keys(cls, data)
        try:
            cases = [CaseDescriptor.from_json(c) for c in data["cases"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"ListingReply: bad case: {exc}") from None
        return cls(cases=cases, missing=list(data.get("missing", [])), no_cases=list(data.get("no_cases", [])),
                   claimed=dict(data.get("claimed", {})))


@dataclass(frozen=True)
class CaseReply(Message):
    """Reply to ``run_case``: the outcome and the evidence the parent classifies (the worker never decides a category).

    ``outcome``: ``passed``, ``failed`` or ``reference_failed``. ``mismatch``/``wrong_device``: the output
    differed from the reference / stayed on another device. ``restart_worker``: the worker must not take
    another case (a poisoned device context, leftovers it could not restore). ``left_behind``: what the
    case left in the worker. ``compile_info``: the adapter's report of a compiled mode; the
    ``eager_same_device_*`` fields: how eager on the run's device compared, when a compiled output mismatched.
    """

    case_id: str
    outcome: str
    message: str | None = None
    exc_type: str | None = None
    traceback: str | None = None
    check: str | None = None
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    mismatch: bool = False
    wrong_device: bool = False
    random: bool | None = None
    time_median_ns: float | None = None
    time_iqr_ns: float | None = None
    time_repeats: int | None = None
    compile_ns: float | None = None
    timing_error: str | None = None
    wall_ns: int | None = None
    compile_info: dict[str, Any] | None = None
    eager_same_device_err: float | None = None
    eager_same_device_rel_err: float | None = None
    eager_same_device_ok: bool | None = None
    eager_same_device_error: str | None = None
    restart_worker: bool = False
    left_behind: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Only the fields that differ from their defaults (replies stay small)."""
        defaults = CaseReply(case_id="", outcome="")
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name in ("case_id", "outcome") or getattr(self, f.name) != getattr(defaults, f.name)}


@dataclass(frozen=True)
class ShutdownReply(Message):
    """Reply to ``shutdown`` (the worker exits after sending it)."""


@dataclass(frozen=True)
class ErrorReply(Message):
    """A request that failed inside the worker (``ok: false``): an adapter bug, an adapter that cannot start
    (``DeviceUnavailable``, a missing module), or a request the worker could not read (``ProtocolError``)."""

    type: str
    message: str = ""
    traceback: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorReply:
        evidence = exception_evidence(exc)
        return cls(type=evidence["exc_type"], message=evidence["message"], traceback=evidence["traceback"])


def exception_evidence(exc: BaseException) -> dict[str, str]:
    """``{exc_type, message, traceback}`` of an exception, as a reply carries them (lengths bounded)."""
    kind = type(exc)
    module = kind.__module__
    name = kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"
    return {
        "exc_type": name,
        "message": str(exc)[:MESSAGE_CHARS],
        "traceback": "".join(traceback.format_exception(exc))[-TRACEBACK_CHARS:],
    }


# ---- requests ---------------------------------------------------------------------------------------------------

R = TypeVar("R", bound=Message)


@dataclass(frozen=True)
class Request(Message, Generic[R]):
    """A request; ``op`` names its operation and ``reply`` the class of its successful reply."""

    op: ClassVar[Op]
    reply: ClassVar[type[Message]]


@dataclass(frozen=True)
class HelloRequest(Request[WorkerInfo]):
    op = Op.HELLO
    reply = WorkerInfo


@dataclass(frozen=True)
class ApiRequest(Request[ApiReply]):
    op = Op.API
    reply = ApiReply


@dataclass(frozen=True)
class CoverageRequest(Request[CoverageReply]):
    op = Op.COVERAGE
    reply = CoverageReply
    specs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ListModelsRequest(Request[ModelsReply]):
    op = Op.LIST_MODELS
    reply = ModelsReply


@dataclass(frozen=True)
class DevicesRequest(Request[DevicesReply]):
    op = Op.DEVICES
    reply = DevicesReply


@dataclass(frozen=True)
class ListCasesRequest(Request[ListingReply]):
    """``functions`` None: every function that has cases."""

    op = Op.LIST_CASES
    reply = ListingReply
    functions: list[str] | None
    dtypes: list[str]
    specs: list[str]
    max_samples: int


@dataclass(frozen=True)
class RunCaseRequest(Request[CaseReply]):
    op = Op.RUN_CASE
    reply = CaseReply
    case: CaseDescriptor
    timing: TimingConfig = TimingConfig()
    do_timing: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case.to_json(), "timing": self.timing.to_json(), "do_timing": self.do_timing}

    @classmethod
    def from_json(cls, data: Any) -> RunCaseRequest:
        data = _check_keys(cls, data)
        try:
            return cls(case=CaseDescriptor.from_json(data["case"]), timing=TimingConfig(**data.get("timing", {})),
                       do_timing=bool(data.get("do_timing", True)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"RunCaseRequest: {exc}") from None


@dataclass(frozen=True)
class ShutdownRequest(Request[ShutdownReply]):
    op = Op.SHUTDOWN
    reply = ShutdownReply


REQUESTS: dict[Op, type[Request[Any]]] = {cls.op: cls for cls in (
    HelloRequest, ApiRequest, CoverageRequest, ListModelsRequest, DevicesRequest, ListCasesRequest, RunCaseRequest,
    ShutdownRequest,
)}


# ---- the envelope -----------------------------------------------------------------------------------------------


def _line(message: dict[str, Any]) -> bytes:
    return (json.dumps({"v": PROTOCOL_VERSION, **message}, allow_nan=True) + "\n").encode()


def _envelope(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {line[:QUOTE_CHARS]!r}") from exc
    if not isinstance(message, dict):
        raise ProtocolError(f"not a message: {str(message)[:QUOTE_CHARS]}")
    if message.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {message.get('v')!r}, expected {PROTOCOL_VERSION}")
    return message


def encode_request(request_id: int, request: Request[Any]) -> bytes:
    return _line({"id": request_id, "op": request.op.value, "args": request.to_json()})


def decode_request(line: bytes) -> tuple[int | None, Request[Any]]:
    """(id, request) of a request line; :class:`ProtocolError` when it is not one of ours."""
    message = _envelope(line)
    request_id = message.get("id")
    if set(message) != {"v", "id", "op", "args"} or not isinstance(request_id, int):
        raise ProtocolError(f"malformed request: {str(message)[:QUOTE_CHARS]}")
    try:
        op = Op(message["op"])
    except ValueError:
        raise ProtocolError(f"unknown op {message['op']!r}") from None
    return request_id, REQUESTS[op].from_json(message["args"])


def encode_reply(request_id: int | None, reply: Message) -> bytes:
    if isinstance(reply, ErrorReply):
        return _line({"id": request_id, "ok": False, "error": reply.to_json()})
    return _line({"id": request_id, "ok": True, "result": reply.to_json()})


def decode_reply(line: bytes, request: Request[R], request_id: int) -> R | ErrorReply:
    """The reply to ``request`` (sent as ``request_id``): its reply class, or an :class:`ErrorReply`."""
    message = _envelope(line)
    if message.get("id") != request_id:
        raise ProtocolError(f"reply id {message.get('id')} for request {request_id}")
    if message.get("ok") is True and set(message) == {"v", "id", "ok", "result"}:
        return request.reply.from_json(message["result"])  # type: ignore[return-value]
    if message.get("ok") is False and set(message) == {"v", "id", "ok", "error"}:
        return ErrorReply.from_json(message["error"])
    raise ProtocolError(f"malformed reply: {str(message)[:QUOTE_CHARS]}")
