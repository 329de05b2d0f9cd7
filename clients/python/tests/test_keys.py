"""Keys as strings and dataclasses, without a server."""

from __future__ import annotations

import math
import unittest

from prescient_client import InvalidArgumentError, Key, input_digest
from prescient_client.client import _key_proto
from prescient_client.keys import to_key


class KeyTest(unittest.TestCase):
    def test_parses_entity_keys_like_the_cli(self) -> None:
        self.assertEqual(Key.parse("acme/ctr_prediction/ad-42"), Key("acme", "ctr_prediction", entity_id="ad-42"))
        # Everything after the second '/' is the entity id, slashes included; the server escapes it.
        self.assertEqual(Key.parse("acme/ctr_prediction/a/b c").entity_id, "a/b c")
        self.assertEqual(str(Key("acme", "ctr_prediction", entity_id="ad-42")), "acme/ctr_prediction/ad-42")

    def test_parses_digest_keys(self) -> None:
        digest = input_digest({"a": 1})
        key = Key.parse(f"acme/ctr_prediction/#{digest}")
        self.assertEqual(key.input_digest, digest)
        self.assertIsNone(key.entity_id)
        # Not 64 lowercase hex: an entity id that happens to start with '#'.
        self.assertEqual(Key.parse("acme/ctr_prediction/#abc").entity_id, "#abc")

    def test_rejects_malformed_keys_locally_as_invalid_argument(self) -> None:
        for text in ("acme", "acme/ctr_prediction", ""):
            with self.subTest(text), self.assertRaises(InvalidArgumentError):
                Key.parse(text)
        with self.assertRaises(InvalidArgumentError):
            Key("acme", "ctr_prediction")
        with self.assertRaises(InvalidArgumentError):
            Key("acme", "ctr_prediction", entity_id="x", input_digest="y")
        with self.assertRaises(InvalidArgumentError):
            Key("acme", "ctr_prediction", inputs={"x": math.nan})
        with self.assertRaises(InvalidArgumentError):
            to_key(42)  # type: ignore[arg-type]
        self.assertTrue(issubclass(InvalidArgumentError, ValueError))

    def test_semantic_keys_digest_like_the_server(self) -> None:
        inputs = {"b": [1, 2.5], "a": {"y": "é", "x": True}}
        sent = Key("acme", "ctr_prediction", inputs=inputs)
        local = Key.for_inputs("acme", "ctr_prediction", {"a": {"x": True, "y": "é"}, "b": [1.0, 2.5]})
        self.assertEqual(sent.digest(), local.input_digest)
        self.assertEqual(str(local), f"acme/ctr_prediction/#{local.input_digest}")

    def test_wire_form(self) -> None:
        proto = _key_proto(Key("acme", "t", inputs={"n": 3, "l": (1, {"z": None})}))
        self.assertEqual(proto.WhichOneof("subject"), "inputs")
        self.assertEqual(proto.inputs["n"], 3.0)
        # An empty object is still inputs (it has a digest), not a key without a subject.
        self.assertEqual(_key_proto(Key("acme", "t", inputs={})).WhichOneof("subject"), "inputs")
        self.assertEqual(_key_proto(Key.parse("acme/t/e")).WhichOneof("subject"), "entity_id")
        digest = input_digest({})
        self.assertEqual(_key_proto(Key.parse(f"acme/t/#{digest}")).input_digest, digest)


if __name__ == "__main__":
    unittest.main()
