"""The committed stubs in prescient_client/gen/ are what generate.sh makes from proto/ today."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from .support import CLIENT, require

GEN = CLIENT / "prescient_client" / "gen"


def _files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


class GeneratedStubsTest(unittest.TestCase):
    def test_committed_stubs_match_the_protos(self) -> None:
        protoc = shutil.which("protoc")
        version = subprocess.run([protoc, "--version"], capture_output=True, text=True).stdout if protoc else ""
        require(
            self,
            version.startswith("libprotoc 3.21.") and shutil.which("grpc_python_plugin") is not None,
            "needs protoc 3.21 and grpc_python_plugin: apt-get install protobuf-compiler protobuf-compiler-grpc",
        )
        with tempfile.TemporaryDirectory() as out:
            done = subprocess.run(
                ["bash", str(CLIENT / "generate.sh"), out], capture_output=True, text=True, timeout=120
            )
            self.assertEqual(done.returncode, 0, done.stderr)
            fresh, committed = _files(Path(out)), _files(GEN)
            self.assertEqual(sorted(fresh), sorted(committed), "files differ: run clients/python/generate.sh")
            stale = [name for name in fresh if not filecmp.cmp(fresh[name], committed[name], shallow=False)]
            self.assertEqual(stale, [], "stale generated stubs: run clients/python/generate.sh and commit them")

    def test_stubs_import_without_a_top_level_prescient_package(self) -> None:
        # The generated imports are relative to gen/, so nothing named `prescient` (or `inference`)
        # needs to be on sys.path, and a `grpc` folder can never shadow the grpc package.
        code = (
            "import sys; from prescient_client.gen.prescient.cache.v1 import cache_pb2_grpc;"
            "from prescient_client.gen.inference import grpc_service_pb2_grpc;"
            "assert 'prescient' not in sys.modules and 'inference' not in sys.modules"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=str(CLIENT),
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(done.returncode, 0, done.stderr)


if __name__ == "__main__":
    unittest.main()
