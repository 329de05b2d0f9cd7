"""Against a running mesh (`npx prescient up`): set PRESCIENT_TEST_ADDR=host:port.

test/e2e/python-client.test.ts starts one and runs these; without the variable they skip.
"""

from __future__ import annotations

import json
import os
import time
import unittest
import uuid

from prescient_client import (
    InvalidArgumentError,
    Key,
    NotFoundError,
    PrescientClient,
    PutEntry,
    Tensor,
    input_digest,
)

from .support import VECTORS

ADDRESS = os.environ.get("PRESCIENT_TEST_ADDR", "")
TENANT = "pyclient"
# The order config/task-types.yaml gives ctr_prediction's input tensor.
CTR_FEATURES = ["bid", "quality_score", "position", "hour_of_day", "ad_age_days", "historical_ctr", "relevance", "device_mobile"]
GOOD_AD = dict(zip(CTR_FEATURES, [1.2, 7, 1, 20, 5, 0.06, 0.9, 1]))
STALE_AD = dict(zip(CTR_FEATURES, [0.3, 2, 8, 3, 80, 0.01, 0.1, 0]))
CAMPAIGN_FEATURES = {
    # roas_prediction's inputs
    "budget": 5000, "bid": 1.1, "audience_size": 120, "historical_roas": 2.4,
    "ctr": 0.035, "conversion_rate": 0.021, "seasonality": 1.1, "competition": 0.4,
    # variant_scoring's inputs
    "length": 48, "sentiment": 0.7, "novelty": 0.6, "brand_fit": 0.9, "readability": 80, "emoji_count": 1,
}  # fmt: skip


def wait_for_hits(client: PrescientClient, keys: list[str], timeout_s: float = 20.0) -> list:
    deadline = time.monotonic() + timeout_s
    while True:
        results = client.lookup_many(keys)
        if all(r.hit for r in results) or time.monotonic() > deadline:
            return results
        time.sleep(0.1)


@unittest.skipUnless(ADDRESS, "set PRESCIENT_TEST_ADDR to a running mesh (npx prescient up) to run these")
class LiveMeshTest(unittest.TestCase):
    client: PrescientClient

    @classmethod
    def setUpClass(cls) -> None:
        cls.client = PrescientClient(ADDRESS, deadline_s=10)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.client.close()

    def setUp(self) -> None:
        # Fresh ids every run, so the tests can rerun against a mesh that keeps its cache.
        self.run_id = uuid.uuid4().hex[:10]

    def key(self, task_type: str, entity: str) -> str:
        return f"{TENANT}/{task_type}/{entity}-{self.run_id}"

    def test_lookup_miss(self) -> None:
        r = self.client.lookup(self.key("ctr_prediction", "never-put"))
        self.assertEqual((r.outcome, r.hit, r.value, r.has_value), ("miss", False, None, False))
        self.assertEqual(r.key, self.key("ctr_prediction", "never-put"))

    def test_put_then_lookup_hits_with_the_value(self) -> None:
        key = self.key("ctr_prediction", "ad")
        value = {"probability": 0.031, "why": ["bid", "é"], "n": None}
        put = self.client.put(key, value, tags=["spring"], model_name="py", model_version="7")
        self.assertEqual(put.key, key)
        r = self.client.lookup(key)
        self.assertEqual(r.outcome, "hit")
        self.assertEqual(r.value, value)
        self.assertEqual((r.content_type, r.model_name, r.model_version, r.tags), ("application/json", "py", "7", ("spring",)))
        # ctr_prediction lives 6 h by the shipped task-type configuration.
        self.assertEqual((r.expires_at - r.computed_at).total_seconds(), 6 * 3600)
        self.assertEqual(r.expires_at, put.expires_at)

    def test_put_tensors_bytes_and_ttl(self) -> None:
        tensors = {"probability": Tensor("FP32", (2, 1), (0.25, 0.5))}
        keys = self.client.put_many(
            [
                PutEntry(self.key("ctr_prediction", "tensors"), tensors, ttl_seconds=60),
                PutEntry(self.key("ctr_prediction", "blob"), b"\x00\x01", content_type="application/x-thing"),
            ]
        )
        self.assertEqual(keys, [self.key("ctr_prediction", "tensors"), self.key("ctr_prediction", "blob")])
        got_tensors, got_blob = self.client.lookup_many(keys)
        self.assertEqual(got_tensors.value, tensors)
        self.assertEqual((got_tensors.expires_at - got_tensors.computed_at).total_seconds(), 60)
        self.assertEqual((got_blob.value, got_blob.content_type), (b"\x00\x01", "application/x-thing"))

    def test_lookup_many_answers_in_request_order(self) -> None:
        present = [self.key("roas_prediction", f"c{i}") for i in range(3)]
        for i, key in enumerate(present):
            self.client.put(key, {"i": i})
        asked = [present[2], self.key("roas_prediction", "absent"), Key.parse(present[0]), present[1]]
        results = self.client.lookup_many(asked)
        self.assertEqual([r.outcome for r in results], ["hit", "miss", "hit", "hit"])
        self.assertEqual([r.value for r in results], [{"i": 2}, None, {"i": 0}, {"i": 1}])

    def test_get_or_compute_computes_once(self) -> None:
        key = self.key("dashboard_data", "user")
        calls: list[int] = []

        def compute() -> dict:
            calls.append(1)
            return {"impressions": 1234, "clicks": 56}

        first = self.client.get_or_compute(key, compute, tags=["dash"])
        second = self.client.get_or_compute(key, compute)
        self.assertEqual(first, second)
        self.assertEqual(second, {"impressions": 1234, "clicks": 56})
        self.assertEqual(len(calls), 1)
        self.assertEqual(self.client.lookup(key).tags, ("dash",))

    def test_the_mesh_computes_a_miss_and_infer_agrees(self) -> None:
        key = self.key("ctr_prediction", "computed")
        computed = self.client.lookup(key, on_miss="compute", features=GOOD_AD)
        self.assertEqual((computed.outcome, computed.computed, computed.model_name), ("miss", True, "ctr_prediction"))
        probability = computed.value["probability"]
        self.assertEqual(probability.shape, (1, 1))
        self.assertEqual(self.client.lookup(key).outcome, "hit")

        inferred = self.client.infer(
            "ctr_prediction", {"features": [[GOOD_AD[f] for f in CTR_FEATURES], [STALE_AD[f] for f in CTR_FEATURES]]}
        )
        self.assertEqual((inferred.model_name, inferred.model_version), ("ctr_prediction", "1"))
        out = inferred.outputs["probability"]
        self.assertEqual((out.datatype, out.shape), ("FP32", (2, 1)))
        self.assertTrue(all(0 < p < 1 for p in out.data), out.data)
        # The better ad is likelier to be clicked; and it is the number the cache computed.
        self.assertGreater(out.data[0], out.data[1])
        self.assertEqual(out.data[0], probability.data[0])

    def test_trigger_campaign_created_fans_out_and_results_land(self) -> None:
        campaign = f"campaign-{self.run_id}"
        r = self.client.trigger("campaign_created", TENANT, campaign, user_id="u1", features=CAMPAIGN_FEATURES)
        # config/task-types.yaml: campaign_created -> variant_generation, variant_scoring, roas_prediction.
        self.assertEqual(set(r.queued), {"variant_generation", "variant_scoring", "roas_prediction"})
        self.assertTrue(all(ids for ids in r.queued.values()))
        keys = [f"{TENANT}/{t}/{campaign}" for t in ("variant_generation", "variant_scoring", "roas_prediction")]
        variants, score, roas = wait_for_hits(self.client, keys)
        self.assertEqual([x.outcome for x in (variants, score, roas)], ["hit", "hit", "hit"])
        self.assertEqual(len(variants.value["variants"]), 3)
        self.assertEqual(score.value["score"].shape, (1, 1))
        self.assertGreater(roas.value["roas"].data[0], 0)

    def test_invalid_argument_is_a_typed_error(self) -> None:
        with self.assertRaisesRegex(InvalidArgumentError, "unknown task type") as caught:
            self.client.lookup(f"{TENANT}/no_such_type/x")
        self.assertEqual(caught.exception.code.name, "INVALID_ARGUMENT")
        with self.assertRaises(InvalidArgumentError):
            self.client.lookup("bad tenant!/ctr_prediction/x")
        with self.assertRaisesRegex(InvalidArgumentError, "no features"):
            self.client.lookup(self.key("ctr_prediction", "featureless"), on_miss="compute")

    def test_not_found_is_a_typed_error(self) -> None:
        with self.assertRaises(NotFoundError):
            self.client.infer("no_such_model", {"features": [[1.0]]})

    def test_digest_computed_here_names_the_servers_key(self) -> None:
        inputs = {"segment": "sports", "bid": 1.20, "hour": 14, "flags": [True, None], "run": self.run_id}
        put = self.client.put(Key(TENANT, "ctr_prediction", inputs=inputs), {"p": 0.5})
        digest = input_digest(inputs)
        self.assertEqual(put.key, f"{TENANT}/ctr_prediction/#{digest}")
        by_digest = self.client.lookup(Key(TENANT, "ctr_prediction", input_digest=digest))
        self.assertEqual((by_digest.outcome, by_digest.value), ("hit", {"p": 0.5}))
        reordered = dict(reversed(list(inputs.items())), bid=1.2)
        self.assertEqual(self.client.lookup(Key(TENANT, "ctr_prediction", inputs=reordered)).outcome, "hit")
        self.assertEqual(self.client.lookup(f"{TENANT}/ctr_prediction/#{digest}").outcome, "hit")

    def test_server_digests_the_shared_vectors_alike(self) -> None:
        vectors = [v for v in json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"] if isinstance(v["input"], dict)]
        self.assertGreater(len(vectors), 10)
        tenant = f"vectors-{self.run_id}"
        keys = self.client.put_many([PutEntry(Key(tenant, "ctr_prediction", inputs=v["input"]), 1) for v in vectors])
        for v, key in zip(vectors, keys):
            with self.subTest(v["name"]):
                self.assertEqual(key, f"{tenant}/ctr_prediction/#{v['digest']}")

    def test_invalidate_by_pattern(self) -> None:
        keys = [self.key("face_detection", f"video{i}") for i in range(3)]
        for key in keys:
            self.client.put(key, {"faces": 1})
        removed = self.client.invalidate(TENANT, pattern=f"face_detection/video*-{self.run_id}")
        self.assertEqual(removed, 3)
        self.assertEqual([r.outcome for r in self.client.lookup_many(keys)], ["miss"] * 3)


if __name__ == "__main__":
    unittest.main()
