"""Shared by the tests: where the repository's files are, and whether a missing tool may skip."""

from __future__ import annotations

import os
import pathlib
import unittest

REPO = pathlib.Path(__file__).resolve().parents[3]
CLIENT = REPO / "clients" / "python"
VECTORS = REPO / "packages" / "core" / "test-vectors" / "canonical-json.json"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(test: unittest.TestCase, available: bool, why: str) -> None:
    """Skips the test when something it needs is missing, except in CI, where that is a failure:
    a check that silently stops running protects nothing."""
    if available:
        return
    if in_ci():
        test.fail(f"{why} (CI is set, so this does not skip)")
    test.skipTest(why)
