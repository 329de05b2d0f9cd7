"""PrescientClient: a thin, typed wrapper over the mesh's gRPC services on one channel."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar, Union

import grpc

from .errors import InvalidArgumentError, PrescientError, error_from_rpc
from .gen.inference import grpc_service_pb2 as oip
from .gen.inference import grpc_service_pb2_grpc as oip_grpc
from .gen.prescient.cache.v1 import cache_pb2, cache_pb2_grpc
from .gen.prescient.common.v1 import common_pb2
from .gen.prescient.precomputer.v1 import precomputer_pb2, precomputer_pb2_grpc
from .keys import Key, KeyLike, to_key
from .results import InferResult, LookupOutcome, LookupResult, PutResult, Tensor, TriggerResult

__all__ = ["PrescientClient", "PutEntry", "OnMiss", "DEFAULT_DEADLINE_S", "service_config"]

__version__ = "0.1.0"

DEFAULT_DEADLINE_S = 10.0
OnMiss = Literal["none", "enqueue", "compute"]
FeatureMap = Mapping[str, Union[float, int, str, bool]]
T = TypeVar("T")

_ON_MISS = {
    "none": cache_pb2.ON_MISS_NONE,
    "enqueue": cache_pb2.ON_MISS_ENQUEUE,
    "compute": cache_pb2.ON_MISS_COMPUTE,
}
_SERVICES = (
    "prescient.cache.v1.CacheService",
    "prescient.precomputer.v1.PrecomputerService",
    "inference.GRPCInferenceService",
)
_MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def service_config() -> dict[str, Any]:
    """The gRPC service config the channel runs with: UNAVAILABLE is retried with backoff.

    Retrying is safe for every call this client makes: lookups, inference and invalidation are
    reads or idempotent, a Put of the same entry overwrites itself, and the task queue behind
    Trigger deduplicates by key. Throttling stops retries from piling onto a mesh that is down.
    """
    return {
        "methodConfig": [
            {
                "name": [{"service": s} for s in _SERVICES],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
        "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1},
    }


@dataclass(frozen=True)
class PutEntry:
    """One result to store. ``value``: ``bytes`` are stored as an opaque payload,
    ``{name: Tensor}`` as tensors, anything else as JSON."""

    key: KeyLike
    value: Any
    content_type: str | None = None
    model_name: str = ""
    model_version: str = ""
    compute_ms: float = 0.0
    input_digest: str = ""
    tags: Sequence[str] = ()
    ttl_seconds: float | None = None
    computed_at: datetime | None = None


class PrescientClient:
    """Calls the prescient mesh: the cache, the precomputer and the predictor (OIP).

    One channel, opened here and reused by every call (it is thread-safe); close it with
    :meth:`close` or a ``with`` block. ``address`` is ``host:port`` of ``prescient up`` or of the
    service a call goes to; in a split deployment, make one client per address.

    - ``token``: sent as ``authorization: Bearer <token>`` on every call.
    - ``tls``: ``True`` for TLS with the system roots, or ``grpc.ssl_channel_credentials(...)``
      (mTLS: pass a private key and certificate chain there). ``None``: plaintext.
    - ``deadline_s``: the deadline of each call unless the call passes its own.
    """

    def __init__(
        self,
        address: str,
        *,
        token: str | None = None,
        tls: bool | grpc.ChannelCredentials | None = None,
        deadline_s: float = DEFAULT_DEADLINE_S,
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        if deadline_s <= 0:
            raise InvalidArgumentError("deadline_s must be positive")
        self.address = address
        self.deadline_s = deadline_s
        self._metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()
        channel_options: list[tuple[str, Any]] = [
            ("grpc.service_config", json.dumps(service_config())),
            ("grpc.enable_retries", 1),
            # Pings find a dead connection (a restarted pod, a dropped NAT entry) before a call
            # waits out its deadline on it. The mesh permits pings every 30 s.
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_timeout_ms", 10_000),
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.primary_user_agent", f"prescient-python/{__version__}"),
            *options,
        ]
        if tls is None or tls is False:
            self._channel = grpc.insecure_channel(address, options=channel_options)
        else:
            creds = grpc.ssl_channel_credentials() if tls is True else tls
            self._channel = grpc.secure_channel(address, creds, options=channel_options)
        self._cache = cache_pb2_grpc.CacheServiceStub(self._channel)
        self._precomputer = precomputer_pb2_grpc.PrecomputerServiceStub(self._channel)
        self._inference = oip_grpc.GRPCInferenceServiceStub(self._channel)
        # Whether LookupMany may use the compact form: until a cache from before it answers one.
        self._compact_lookup_many = True

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> PrescientClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- cache ---------------------------------------------------------------------------------

    def lookup(
        self,
        key: KeyLike,
        *,
        on_miss: OnMiss = "none",
        features: FeatureMap | None = None,
        user_id: str = "",
        reject_stale: bool = False,
        deadline_s: float | None = None,
    ) -> LookupResult:
        """Looks one key up. ``on_miss="enqueue"`` queues a task for a miss (``task_id`` says
        which); ``"compute"`` computes it now from ``features`` (or the entity's stored ones)."""
        request = cache_pb2.LookupRequest(
            key=_key_proto(to_key(key)),
            on_miss=_on_miss(on_miss),
            user_id=user_id,
            reject_stale=reject_stale,
        )
        _set_features(request.features, features)
        response = self._call(self._cache.Lookup, request, deadline_s)
        return _lookup_result(response)

    def lookup_many(
        self,
        keys: Iterable[KeyLike],
        *,
        on_miss: OnMiss = "none",
        user_id: str = "",
        reject_stale: bool = False,
        deadline_s: float | None = None,
    ) -> list[LookupResult]:
        """Looks a batch up in one call (at most 1000 keys by default); answers in request order.

        A batch of entity ids of one tenant and task type (an ad server's candidates) goes in the
        compact form (``tenant``, ``task_type``, ``entity_ids``): a fifth of the bytes, and no key
        message per id to build or parse. A cache from before that form ignores it and answers
        nothing; the batch is then sent again as keys, and every later one too.
        """
        batch = [to_key(k) for k in keys]
        base = {"on_miss": _on_miss(on_miss), "user_id": user_id, "reject_stale": reject_stale}
        compact = _compact_form(batch) if self._compact_lookup_many else None
        if compact is not None:
            request = cache_pb2.LookupManyRequest(**compact, **base)
            response = self._call(self._cache.LookupMany, request, deadline_s)
            if len(response.results) == len(batch):
                return [_lookup_result(r) for r in response.results]
            self._compact_lookup_many = False
        request = cache_pb2.LookupManyRequest(keys=[_key_proto(k) for k in batch], **base)
        response = self._call(self._cache.LookupMany, request, deadline_s)
        if len(response.results) != len(batch):
            raise PrescientError(f"LookupMany answered {len(response.results)} results for {len(batch)} keys")
        return [_lookup_result(r) for r in response.results]

    def put(
        self,
        key: KeyLike,
        value: Any,
        *,
        content_type: str | None = None,
        model_name: str = "",
        model_version: str = "",
        compute_ms: float = 0.0,
        input_digest: str = "",
        tags: Sequence[str] = (),
        ttl_seconds: float | None = None,
        computed_at: datetime | None = None,
        deadline_s: float | None = None,
    ) -> PutResult:
        """Stores a result under the task type's TTL (or ``ttl_seconds``). ``value``: ``bytes``
        are stored as they are, ``{name: Tensor}`` as tensors, anything else as JSON."""
        entry = PutEntry(
            key,
            value,
            content_type=content_type,
            model_name=model_name,
            model_version=model_version,
            compute_ms=compute_ms,
            input_digest=input_digest,
            tags=tags,
            ttl_seconds=ttl_seconds,
            computed_at=computed_at,
        )
        response = self._call(self._cache.Put, cache_pb2.PutRequest(entry=_entry_proto(entry)), deadline_s)
        return PutResult(key=response.key, expires_at=_datetime(response, "expires_at"))

    def put_many(self, entries: Iterable[PutEntry], *, deadline_s: float | None = None) -> list[str]:
        """Stores a batch in one call; returns the canonical keys in order."""
        request = cache_pb2.PutManyRequest(entries=[_entry_proto(e) for e in entries])
        return list(self._call(self._cache.PutMany, request, deadline_s).keys)

    def invalidate(
        self,
        tenant: str,
        *,
        key: KeyLike | None = None,
        prefix: str | None = None,
        pattern: str | None = None,
        tag: str | None = None,
        task_type: str | None = None,
        deadline_s: float | None = None,
    ) -> int:
        """Removes entries of ``tenant`` by exactly one selector; ``pattern`` globs over
        ``task_type/entity_id`` ('*' and '?' stop at '/'). Returns how many were removed."""
        selectors = {"key": key, "prefix": prefix, "pattern": pattern, "tag": tag, "task_type": task_type}
        given = {name: v for name, v in selectors.items() if v is not None}
        if len(given) != 1:
            raise InvalidArgumentError(f"give exactly one of {', '.join(selectors)}")
        request = cache_pb2.InvalidateRequest(tenant=tenant)
        if key is not None:
            request.key.CopyFrom(_key_proto(to_key(key)))
        else:
            (name, value) = next(iter(given.items()))
            setattr(request, name, value)
        return int(self._call(self._cache.Invalidate, request, deadline_s).removed)

    def get_or_compute(
        self,
        key: KeyLike,
        compute: Callable[[], T],
        *,
        accept_stale: bool = True,
        deadline_s: float | None = None,
        **put_options: Any,
    ) -> T | Any:
        """The cached value of ``key``; on a miss, ``compute()`` here, store it, and return it.

        A stale value is returned as it is (the cache has already scheduled its refresh) unless
        ``accept_stale`` is False. Concurrent misses each compute: for one computation per key
        across callers, let the mesh compute (``lookup(key, on_miss="compute", features=...)``).
        ``put_options`` go to :meth:`put` (``ttl_seconds``, ``tags``, ``model_name``...).
        """
        found = self.lookup(key, reject_stale=not accept_stale, deadline_s=deadline_s)
        if found.hit and found.has_value:
            return found.value
        value = compute()
        self.put(key, value, deadline_s=deadline_s, **put_options)
        return value

    # -- precomputer ---------------------------------------------------------------------------

    def trigger(
        self,
        event_type: str,
        tenant: str,
        entity_id: str = "",
        *,
        user_id: str = "",
        features: FeatureMap | None = None,
        attributes: Mapping[str, str] | None = None,
        time: datetime | None = None,
        related_entity_ids: Sequence[str] = (),
        deadline_s: float | None = None,
    ) -> TriggerResult:
        """Reports an event (``"campaign_created"``, ``"video_uploaded"``...); the precomputer
        fans it out to task types by its rules. ``features`` are what those tasks compute from."""
        event = precomputer_pb2.Event(
            type=event_type,
            tenant=tenant,
            entity_id=entity_id,
            user_id=user_id,
            attributes=dict(attributes or {}),
            related_entity_ids=list(related_entity_ids),
        )
        _set_features(event.features, features)
        if time is not None:
            event.time.FromDatetime(_utc(time))
        response = self._call(self._precomputer.Trigger, precomputer_pb2.TriggerRequest(event=event), deadline_s)
        return TriggerResult(
            queued={q.task_type: list(q.task_ids) for q in response.queued},
            skipped_fresh=list(response.skipped_fresh),
        )

    # -- predictor (Open Inference Protocol) ---------------------------------------------------

    def infer(
        self,
        model: str,
        inputs: Mapping[str, Tensor | Sequence[Any]],
        *,
        version: str = "",
        outputs: Sequence[str] = (),
        request_id: str = "",
        deadline_s: float | None = None,
    ) -> InferResult:
        """Runs a model (OIP ModelInfer). ``inputs``: ``{name: Tensor}``, or nested lists of
        numbers, sent as FP32 with their shape. Returns every output (or those named)."""
        request = oip.ModelInferRequest(model_name=model, model_version=version, id=request_id)
        for name, given in inputs.items():
            tensor = given if isinstance(given, Tensor) else _tensor_from_lists(name, given)
            request.inputs.add(name=name, datatype=tensor.datatype, shape=list(tensor.shape))
            request.raw_input_contents.append(_pack(name, tensor))
        for name in outputs:
            request.outputs.add(name=name)
        response = self._call(self._inference.ModelInfer, request, deadline_s)
        return InferResult(
            model_name=response.model_name,
            model_version=response.model_version,
            id=response.id,
            outputs=_infer_outputs(response),
        )

    # -- plumbing ------------------------------------------------------------------------------

    def _call(self, method: Any, request: Any, deadline_s: float | None) -> Any:
        timeout = self.deadline_s if deadline_s is None else deadline_s
        try:
            return method(request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise error_from_rpc(e) from e


def _on_miss(mode: str) -> int:
    try:
        return _ON_MISS[mode]
    except KeyError:
        raise InvalidArgumentError(f"on_miss must be none, enqueue or compute, not {mode!r}") from None


def _compact_form(batch: Sequence[Key]) -> dict[str, Any] | None:
    """LookupMany's compact fields when every key is an entity id of the first key's tenant and type."""
    if not batch:
        return None
    first = batch[0]
    ids = []
    for k in batch:
        if k.entity_id is None or k.tenant != first.tenant or k.task_type != first.task_type:
            return None
        ids.append(k.entity_id)
    return {"tenant": first.tenant, "task_type": first.task_type, "entity_ids": ids}


def _key_proto(key: Key) -> common_pb2.Key:
    proto = common_pb2.Key(tenant=key.tenant, task_type=key.task_type)
    if key.entity_id is not None:
        proto.entity_id = key.entity_id
    elif key.input_digest is not None:
        proto.input_digest = key.input_digest
    else:
        # SetInParent: `{}` is inputs too, and update() alone would leave the oneof unset.
        proto.inputs.SetInParent()
        # Key checked the inputs are canonicalizable; Struct.update wants plain dicts and lists.
        proto.inputs.update(_plain(key.inputs))
    return proto


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _set_features(target: Any, features: FeatureMap | None) -> None:
    for name, value in (features or {}).items():
        if isinstance(value, str):
            target[name].text = value
        elif isinstance(value, (int, float)):  # bool included: the executor reads it as 1 or 0
            if not math.isfinite(value):
                raise InvalidArgumentError(f"feature {name} is not a finite number")
            target[name].number = float(value)
        else:
            raise InvalidArgumentError(f"feature {name} must be a number or a string, not {type(value).__name__}")


def _entry_proto(entry: PutEntry) -> cache_pb2.PutEntry:
    proto = cache_pb2.PutEntry(
        key=_key_proto(to_key(entry.key)),
        value=_value_proto(entry.value, entry.content_type),
        model_name=entry.model_name,
        model_version=entry.model_version,
        compute_ms=entry.compute_ms,
        input_digest=entry.input_digest,
        tags=list(entry.tags),
    )
    if entry.ttl_seconds is not None:
        proto.ttl_seconds = entry.ttl_seconds
    if entry.computed_at is not None:
        proto.computed_at.FromDatetime(_utc(entry.computed_at))
    return proto


def _value_proto(value: Any, content_type: str | None) -> common_pb2.Value:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return common_pb2.Value(payload=bytes(value), content_type=content_type or "application/octet-stream")
    if isinstance(value, Mapping) and value and all(isinstance(t, Tensor) for t in value.values()):
        tensors = common_pb2.Tensors(
            tensors=[
                common_pb2.Tensor(name=name, datatype=t.datatype, shape=list(t.shape), data=[float(x) for x in t.data])
                for name, t in value.items()
            ]
        )
        return common_pb2.Value(tensors=tensors)
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"value is not JSON: {e}") from None
    return common_pb2.Value(payload=text.encode("utf-8"), content_type=content_type or "application/json")


def _decode_value(value: common_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "tensors":
        return {
            t.name: Tensor(datatype=t.datatype, shape=tuple(t.shape), data=tuple(t.data)) for t in value.tensors.tensors
        }
    if kind == "payload":
        media = value.content_type.split(";")[0].strip().lower()
        if media == "application/json" or media.endswith("+json"):
            try:
                return json.loads(value.payload.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return value.payload
        if media.startswith("text/"):
            return value.payload.decode("utf-8", errors="replace")
        return value.payload
    return None


def _lookup_result(r: cache_pb2.LookupResponse) -> LookupResult:
    outcome: LookupOutcome = ("stale" if r.stale else "hit") if r.hit else "miss"
    res = r.result if r.HasField("result") else None
    return LookupResult(
        key=r.key,
        outcome=outcome,
        computed=r.computed,
        refresh_due=r.refresh_due,
        degraded=r.degraded,
        task_id=r.task_id,
        has_value=res is not None and res.HasField("value"),
        value=_decode_value(res.value) if res is not None else None,
        content_type=res.value.content_type if res is not None else "",
        computed_at=_datetime(res, "computed_at") if res is not None else None,
        expires_at=_datetime(res, "expires_at") if res is not None else None,
        model_name=res.model_name if res is not None else "",
        model_version=res.model_version if res is not None else "",
        compute_ms=res.compute_ms if res is not None else 0.0,
        input_digest=res.input_digest if res is not None else "",
        tags=tuple(res.tags) if res is not None else (),
    )


def _datetime(message: Any, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    return getattr(message, field).ToDatetime(tzinfo=timezone.utc)


def _utc(dt: datetime) -> datetime:
    # protobuf reads naive datetimes as UTC; say so for aware ones rather than rely on it.
    return dt if dt.tzinfo is None else dt.astimezone(timezone.utc)


# Little-endian element formats of OIP raw tensor contents.
_RAW_FORMATS = {
    "BOOL": "?",
    "UINT8": "B",
    "UINT16": "H",
    "UINT32": "I",
    "UINT64": "Q",
    "INT8": "b",
    "INT16": "h",
    "INT32": "i",
    "INT64": "q",
    "FP16": "e",
    "FP32": "f",
    "FP64": "d",
}
_TYPED_FIELDS = {
    "BOOL": "bool_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


def _tensor_from_lists(name: str, rows: Sequence[Any]) -> Tensor:
    shape: list[int] = []
    probe: Any = rows
    while isinstance(probe, (list, tuple)):
        shape.append(len(probe))
        probe = probe[0] if probe else None
    flat: list[Any] = []

    def walk(node: Any, depth: int) -> None:
        if depth == len(shape):
            if isinstance(node, (list, tuple)) or not isinstance(node, (int, float)):
                raise InvalidArgumentError(f"input {name} is not a rectangular array of numbers")
            flat.append(node)
            return
        if not isinstance(node, (list, tuple)) or len(node) != shape[depth]:
            raise InvalidArgumentError(f"input {name} is not a rectangular array of numbers")
        for child in node:
            walk(child, depth + 1)

    walk(rows, 0)
    return Tensor(datatype="FP32", shape=tuple(shape), data=tuple(flat))


def _pack(name: str, tensor: Tensor) -> bytes:
    count = math.prod(tensor.shape)
    if count != len(tensor.data):
        raise InvalidArgumentError(f"input {name} has {len(tensor.data)} elements for shape {list(tensor.shape)}")
    if tensor.datatype == "BYTES":
        out = bytearray()
        for item in tensor.data:
            raw = item.encode("utf-8") if isinstance(item, str) else bytes(item)
            out += struct.pack("<I", len(raw)) + raw
        return bytes(out)
    fmt = _RAW_FORMATS.get(tensor.datatype)
    if fmt is None:
        raise InvalidArgumentError(f"input {name} has unknown datatype {tensor.datatype!r}")
    try:
        return struct.pack(f"<{count}{fmt}", *tensor.data)
    except struct.error as e:
        raise InvalidArgumentError(f"input {name} does not fit {tensor.datatype}: {e}") from None


def _unpack(datatype: str, raw: bytes) -> tuple[Any, ...]:
    if datatype == "BYTES":
        items: list[bytes] = []
        at = 0
        while at < len(raw):
            (size,) = struct.unpack_from("<I", raw, at)
            items.append(raw[at + 4 : at + 4 + size])
            at += 4 + size
        return tuple(items)
    fmt = _RAW_FORMATS.get(datatype)
    if fmt is None:
        return (raw,)  # a datatype this client cannot read: the bytes as they came
    return struct.unpack(f"<{len(raw) // struct.calcsize(fmt)}{fmt}", raw)


def _infer_outputs(response: oip.ModelInferResponse) -> dict[str, Tensor]:
    outputs: dict[str, Tensor] = {}
    for i, out in enumerate(response.outputs):
        if i < len(response.raw_output_contents):
            data = _unpack(out.datatype, response.raw_output_contents[i])
        else:
            data = tuple(getattr(out.contents, _TYPED_FIELDS.get(out.datatype, "fp64_contents")))
        outputs[out.name] = Tensor(datatype=out.datatype, shape=tuple(out.shape), data=data)
    return outputs
