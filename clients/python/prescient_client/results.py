"""What calls return: plain dataclasses, so callers never touch generated protobuf classes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["Tensor", "LookupOutcome", "LookupResult", "PutResult", "TriggerResult", "InferResult"]

LookupOutcome = Literal["hit", "stale", "miss"]


@dataclass(frozen=True)
class Tensor:
    """A tensor: Open Inference Protocol datatype (``"FP32"``, ``"INT64"``...), shape, and the
    elements flat in row-major order."""

    datatype: str
    shape: tuple[int, ...]
    data: tuple[Any, ...]

    def rows(self) -> list[list[Any]]:
        """The elements as rows of the last dimension (a 2-D view of any shape)."""
        width = self.shape[-1] if self.shape else 1
        if width == 0:
            return []
        return [list(self.data[i : i + width]) for i in range(0, len(self.data), width)]


@dataclass(frozen=True)
class LookupResult:
    """A lookup's answer.

    ``outcome`` is what the cache found: ``"hit"`` (fresh), ``"stale"`` (expired but inside the
    type's grace window; a refresh is on its way) or ``"miss"``. ``value`` is set on hits, stale
    hits, and misses computed for this call (``on_miss="compute"``, then ``computed`` is True):
    JSON payloads decoded, text as ``str``, other payloads as ``bytes``, tensors as
    ``{name: Tensor}``.
    """

    key: str
    outcome: LookupOutcome
    value: Any = None
    content_type: str = ""
    computed_at: datetime | None = None
    expires_at: datetime | None = None
    model_name: str = ""
    model_version: str = ""
    compute_ms: float = 0.0
    input_digest: str = ""
    tags: tuple[str, ...] = ()
    computed: bool = False
    refresh_due: bool = False
    degraded: bool = False
    task_id: str = ""
    has_value: bool = False

    @property
    def hit(self) -> bool:
        """True for fresh and stale hits."""
        return self.outcome != "miss"


@dataclass(frozen=True)
class PutResult:
    key: str
    expires_at: datetime | None


@dataclass(frozen=True)
class TriggerResult:
    """Task ids queued per task type, and the task types skipped because their result was fresh."""

    queued: dict[str, list[str]] = field(default_factory=dict)
    skipped_fresh: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class InferResult:
    model_name: str
    model_version: str
    id: str
    outputs: dict[str, Tensor]
