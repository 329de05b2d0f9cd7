"""The client's channel behaviour against an in-process fake cache: retries, deadlines, tokens,
typed errors and value decoding. Needs no mesh."""

from __future__ import annotations

import socket
import struct
import threading
import time
import unittest
from concurrent import futures

import grpc

from prescient_client import (
    DeadlineExceededError,
    InvalidArgumentError,
    NotFoundError,
    PrescientClient,
    PrescientError,
    Tensor,
    UnavailableError,
)
from prescient_client.client import _pack, _unpack
from prescient_client.gen.inference import grpc_service_pb2 as oip
from prescient_client.gen.inference import grpc_service_pb2_grpc as oip_grpc
from prescient_client.gen.prescient.cache.v1 import cache_pb2, cache_pb2_grpc
from prescient_client.gen.prescient.common.v1 import common_pb2


class FakeCache(cache_pb2_grpc.CacheServiceServicer):
    """Answers by entity id: 'flaky-N' fails N times with UNAVAILABLE, 'down' always does,
    'bad' and 'gone' fail at once, 'slow' outlives short deadlines."""

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}
        self.metadata: list[dict[str, str]] = []
        self.time_remaining: list[float] = []
        self.lock = threading.Lock()
        # LookupMany: (keys, entity_ids) counts per call; `old` answers as a cache from before the
        # compact form, which does not know its fields (and so sees an empty batch).
        self.forms: list[tuple[int, int]] = []
        self.old = False

    def LookupMany(self, request, context):  # noqa: N802
        ids = [] if self.old else list(request.entity_ids)
        with self.lock:
            self.forms.append((len(request.keys), len(ids)))
        if request.keys and ids:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "send keys or entity_ids, not both")
        names = (
            [f"{k.tenant}/{k.task_type}/{k.entity_id}" for k in request.keys]
            if request.keys
            else [f"{request.tenant}/{request.task_type}/{i}" for i in ids]
        )
        response = cache_pb2.LookupManyResponse()
        for name in names:
            r = response.results.add(key=name, hit=True)
            r.result.value.payload = b"{}"
            r.result.value.content_type = "application/json"
        return response

    def Lookup(self, request, context):  # noqa: N802 (gRPC's method name)
        entity = request.key.entity_id
        with self.lock:
            self.attempts[entity] = self.attempts.get(entity, 0) + 1
            attempt = self.attempts[entity]
            self.metadata.append(dict(context.invocation_metadata()))
            self.time_remaining.append(context.time_remaining())
        if entity.startswith("flaky-") and attempt <= int(entity.split("-")[1]):
            context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        if entity == "down":
            context.abort(grpc.StatusCode.UNAVAILABLE, "store unreachable")
        if entity == "bad":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "key: unknown task type")
        if entity == "gone":
            context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
        if entity == "slow":
            time.sleep(1.0)
        response = cache_pb2.LookupResponse(key=f"t/x/{entity}", hit=True, stale=entity == "stale")
        if entity == "tensors":
            t = common_pb2.Tensor(name="probability", datatype="FP32", shape=[2, 1], data=[0.25, 0.5])
            response.result.value.tensors.tensors.append(t)
        elif entity == "text":
            response.result.value.payload = "plain words".encode()
            response.result.value.content_type = "text/plain; charset=utf-8"
        elif entity == "blob":
            response.result.value.payload = b"\x00\xff"
            response.result.value.content_type = "application/octet-stream"
        else:
            response.result.value.payload = b'{"ok":true}'
            response.result.value.content_type = "application/json"
        response.result.computed_at.FromSeconds(1_700_000_000)
        response.result.expires_at.FromSeconds(1_700_003_600)
        return response


class EchoInference(oip_grpc.GRPCInferenceServiceServicer):
    """Answers ModelInfer with its inputs, decoded from raw bytes and sent back as typed contents."""

    def ModelInfer(self, request, context):  # noqa: N802
        response = oip.ModelInferResponse(model_name=request.model_name, model_version="3", id=request.id)
        for tensor, raw in zip(request.inputs, request.raw_input_contents):
            out = response.outputs.add(name=tensor.name, datatype=tensor.datatype, shape=tensor.shape)
            if tensor.datatype == "FP32":
                out.contents.fp32_contents.extend(struct.unpack(f"<{len(raw) // 4}f", raw))
            elif tensor.datatype == "INT64":
                out.contents.int64_contents.extend(struct.unpack(f"<{len(raw) // 8}q", raw))
        return response


class OfflineClientTest(unittest.TestCase):
    def setUp(self) -> None:
        # A server (so a server name) per test: gRPC's retry throttling is kept per server name.
        self.fake = FakeCache()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        cache_pb2_grpc.add_CacheServiceServicer_to_server(self.fake, self.server)
        oip_grpc.add_GRPCInferenceServiceServicer_to_server(EchoInference(), self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.client = PrescientClient(f"127.0.0.1:{port}", token="s3cret", deadline_s=5)

    def tearDown(self) -> None:
        self.client.close()
        self.server.stop(None)

    def test_retries_unavailable_by_service_config(self) -> None:
        result = self.client.lookup("t/x/flaky-2")
        self.assertEqual(self.fake.attempts["flaky-2"], 3)
        self.assertEqual(result.outcome, "hit")
        self.assertEqual(result.value, {"ok": True})

    def test_gives_up_after_max_attempts_with_unavailable(self) -> None:
        with self.assertRaises(UnavailableError) as caught:
            self.client.lookup("t/x/down")
        self.assertEqual(caught.exception.details, "store unreachable")
        self.assertIsInstance(caught.exception, ConnectionError)
        self.assertTrue(2 <= self.fake.attempts["down"] <= 5, self.fake.attempts)

    def test_does_not_retry_other_errors_and_types_them(self) -> None:
        with self.assertRaisesRegex(InvalidArgumentError, "unknown task type") as caught:
            self.client.lookup("t/x/bad")
        self.assertEqual(caught.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(str(caught.exception), "INVALID_ARGUMENT: key: unknown task type")
        with self.assertRaises(NotFoundError):
            self.client.lookup("t/x/gone")
        self.assertEqual((self.fake.attempts["bad"], self.fake.attempts["gone"]), (1, 1))

    def test_sends_the_token_and_a_deadline_on_every_call(self) -> None:
        self.client.lookup("t/x/a")
        self.client.lookup("t/x/b", deadline_s=2)
        self.assertTrue(all(m.get("authorization") == "Bearer s3cret" for m in self.fake.metadata))
        self.assertTrue(all(m.get("user-agent", "").startswith("prescient-python/") for m in self.fake.metadata))
        # The wire rounds a timeout up a little; the client's own default and override are what count.
        self.assertTrue(4 < self.fake.time_remaining[0] <= 5.1, self.fake.time_remaining)
        self.assertTrue(1 < self.fake.time_remaining[1] <= 2.1, self.fake.time_remaining)

    def test_deadline_exceeded(self) -> None:
        started = time.monotonic()
        with self.assertRaises(DeadlineExceededError) as caught:
            self.client.lookup("t/x/slow", deadline_s=0.2)
        self.assertLess(time.monotonic() - started, 0.9)
        self.assertIsInstance(caught.exception, TimeoutError)

    def test_decodes_values_and_outcomes(self) -> None:
        tensors = self.client.lookup("t/x/tensors")
        self.assertEqual(tensors.value, {"probability": Tensor("FP32", (2, 1), (0.25, 0.5))})
        self.assertEqual(tensors.value["probability"].rows(), [[0.25], [0.5]])
        self.assertEqual(self.client.lookup("t/x/text").value, "plain words")
        self.assertEqual(self.client.lookup("t/x/blob").value, b"\x00\xff")
        stale = self.client.lookup("t/x/stale")
        self.assertEqual((stale.outcome, stale.hit), ("stale", True))
        self.assertEqual(stale.computed_at.isoformat(), "2023-11-14T22:13:20+00:00")
        self.assertEqual((stale.expires_at - stale.computed_at).total_seconds(), 3600)

    def test_infer_sends_raw_tensors_and_reads_typed_ones(self) -> None:
        result = self.client.infer(
            "echo",
            {"features": [[1.5, 2.0], [3.0, 4.25]], "ids": Tensor("INT64", (3,), (1, -2, 2**40))},
            request_id="r1",
        )
        self.assertEqual((result.model_name, result.model_version, result.id), ("echo", "3", "r1"))
        self.assertEqual(result.outputs["features"], Tensor("FP32", (2, 2), (1.5, 2.0, 3.0, 4.25)))
        self.assertEqual(result.outputs["ids"], Tensor("INT64", (3,), (1, -2, 2**40)))
        with self.assertRaisesRegex(InvalidArgumentError, "rectangular"):
            self.client.infer("echo", {"features": [[1.0, 2.0], [3.0]]})
        with self.assertRaisesRegex(InvalidArgumentError, "elements for shape"):
            self.client.infer("echo", {"x": Tensor("FP32", (2, 2), (1.0,))})

    def test_raw_tensor_encoding_round_trips(self) -> None:
        cases = [
            Tensor("BOOL", (3,), (True, False, True)),
            Tensor("UINT8", (2,), (0, 255)),
            Tensor("INT16", (2,), (-32768, 7)),
            Tensor("FP16", (2,), (0.5, -2.0)),
            Tensor("FP64", (1,), (0.1,)),
            Tensor("BYTES", (2,), (b"ab", b"")),
        ]
        for t in cases:
            with self.subTest(t.datatype):
                self.assertEqual(_unpack(t.datatype, _pack("x", t)), t.data)
        with self.assertRaises(InvalidArgumentError):
            _pack("x", Tensor("UINT8", (1,), (256,)))

    def test_lookup_many_sends_one_tenant_and_types_ids_compactly(self) -> None:
        results = self.client.lookup_many([f"acme/ctr_prediction/ad-{i}" for i in range(3)])
        self.assertEqual([r.key for r in results], [f"acme/ctr_prediction/ad-{i}" for i in range(3)])
        # A mixed batch goes as keys.
        mixed = self.client.lookup_many(["acme/ctr_prediction/ad-1", "acme/roas_prediction/c-1"])
        self.assertEqual([r.key for r in mixed], ["acme/ctr_prediction/ad-1", "acme/roas_prediction/c-1"])
        self.assertEqual(self.fake.forms, [(0, 3), (2, 0)])

    def test_lookup_many_falls_back_to_keys_once_against_an_older_cache(self) -> None:
        self.fake.old = True
        batch = [f"acme/ctr_prediction/ad-{i}" for i in range(3)]
        self.assertEqual(len(self.client.lookup_many(batch)), 3)
        self.assertEqual(len(self.client.lookup_many(batch)), 3)
        # The compact form once (answered with nothing), then keys from then on.
        self.assertEqual(self.fake.forms, [(0, 0), (3, 0), (3, 0)])

    def test_local_mistakes_never_reach_the_wire(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            self.client.lookup("no-slashes")
        with self.assertRaises(InvalidArgumentError):
            self.client.lookup("t/x/a", on_miss="sometimes")  # type: ignore[arg-type]
        with self.assertRaises(InvalidArgumentError):
            self.client.lookup("t/x/a", features={"bid": float("nan")})
        with self.assertRaises(InvalidArgumentError):
            self.client.put("t/x/a", {"x": float("inf")})
        with self.assertRaises(InvalidArgumentError):
            self.client.invalidate("t", tag="a", prefix="b")
        self.assertEqual(self.fake.attempts, {})


class UnreachableTest(unittest.TestCase):
    def test_a_closed_port_is_unavailable(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # The port is closed again: nothing listens there.
        with PrescientClient(f"127.0.0.1:{port}", deadline_s=5) as client:
            with self.assertRaises(UnavailableError) as caught:
                client.lookup("t/x/a")
        self.assertIsInstance(caught.exception, PrescientError)


if __name__ == "__main__":
    unittest.main()
