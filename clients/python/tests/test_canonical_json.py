"""RFC 8785 canonical JSON, checked against the vectors the TypeScript implementation checks."""

from __future__ import annotations

import hashlib
import json
import math
import unittest
from collections import OrderedDict

from prescient_client import InvalidArgumentError, canonical_json, input_digest
from prescient_client.canonical_json import ecmascript_number

from .support import VECTORS


class SharedVectorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        data = json.loads(VECTORS.read_text(encoding="utf-8"))
        cls.vectors = data["vectors"]
        cls.invalid = data["invalid"]

    def test_vectors_include_the_rfc_examples(self) -> None:
        names = [v["name"] for v in self.vectors]
        self.assertIn("rfc8785 3.2.3: property sorting by UTF-16 code units", names)
        self.assertEqual(sum(n.startswith("rfc8785 appendix B") for n in names), 24)
        self.assertGreater(len(names), 50)

    def test_every_vector(self) -> None:
        for v in self.vectors:
            with self.subTest(v["name"]):
                self.assertEqual(canonical_json(v["input"]), v["canonical"])
                self.assertEqual(input_digest(v["input"]), v["digest"])
                self.assertEqual(hashlib.sha256(v["canonical"].encode("utf-8")).hexdigest(), v["digest"])

    def test_every_invalid_input_is_rejected(self) -> None:
        for v in self.invalid:
            with self.subTest(v["name"]), self.assertRaises(InvalidArgumentError):
                canonical_json(v["input"])


class CanonicalJsonTest(unittest.TestCase):
    def test_python_values_that_json_would_parse_alike(self) -> None:
        self.assertEqual(canonical_json({"b": (1, 2.0), "a": OrderedDict(z=None, y=True)}), '{"a":{"y":true,"z":null},"b":[1,2]}')
        self.assertEqual(canonical_json([True, False, 1, 1.0]), "[true,false,1,1]")
        self.assertEqual(input_digest({"x": 1}), input_digest({"x": 1.0}))
        self.assertNotEqual(input_digest({"x": 1}), input_digest({"x": "1"}))
        self.assertNotEqual(input_digest({"x": True}), input_digest({"x": 1}))

    def test_integers_are_doubles(self) -> None:
        self.assertEqual(canonical_json(2**53 + 1), "9007199254740992")
        self.assertEqual(canonical_json(10**21), "1e+21")
        self.assertEqual(canonical_json(-(10**16)), "-10000000000000000")

    def test_sorts_by_utf16_code_units_not_code_points(self) -> None:
        # By code point U+FB33 < U+1F600; by UTF-16 units 0xD83D < 0xFB33.
        self.assertEqual(canonical_json({"\ufb33": 1, "\U0001f600": 2}), '{"\U0001f600":2,"\ufb33":1}')

    def test_escapes_like_json_stringify(self) -> None:
        self.assertEqual(canonical_json("\x00\x1f\x7f\u2028\b\t\n\f\r\"\\/é"), '"\\u0000\\u001f\x7f\u2028\\b\\t\\n\\f\\r\\"\\\\/é"')

    def test_rejects_what_json_cannot_hold(self) -> None:
        for bad in (math.nan, math.inf, -math.inf, {"x": [math.nan]}, 10**400, {1: "x"}, {"x": {1, 2}}, b"x", object()):
            with self.subTest(repr(bad)[:40]), self.assertRaises(InvalidArgumentError):
                canonical_json(bad)

    def test_error_names_the_path(self) -> None:
        with self.assertRaisesRegex(InvalidArgumentError, r"\$\.a\[1\]\.b is not a finite number"):
            canonical_json({"a": [0, {"b": math.nan}]})

    def test_ecmascript_number_edges(self) -> None:
        cases = {
            1e21: "1e+21",
            1e-7: "1e-7",
            1e16: "10000000000000000",
            -0.0: "0",
            123e-20: "1.23e-18",
            0.000001: "0.000001",
            5e-324: "5e-324",
            1.5: "1.5",
            100.0: "100",
        }
        for x, want in cases.items():
            with self.subTest(x):
                self.assertEqual(ecmascript_number(x), want)


if __name__ == "__main__":
    unittest.main()
