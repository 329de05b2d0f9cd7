"""Keys: ``tenant/task_type/entity_id``, or ``tenant/task_type/#<sha256>`` for semantic keys."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

from .canonical_json import canonical_json, input_digest
from .errors import InvalidArgumentError

__all__ = ["Key", "KeyLike", "to_key"]

_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Key:
    """One prediction's name. Exactly one of ``entity_id``, ``input_digest`` and ``inputs`` is set.

    ``inputs`` (a JSON object) makes a semantic key: the server digests its RFC 8785 canonical
    form, so key order and number spelling do not matter. :meth:`for_inputs` digests locally
    instead and sends only the digest. The server validates tenants, task types and ids.
    """

    tenant: str
    task_type: str
    entity_id: str | None = None
    input_digest: str | None = None
    inputs: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        subjects = sum(x is not None for x in (self.entity_id, self.input_digest, self.inputs))
        if subjects != 1:
            raise InvalidArgumentError(
                f"a key needs exactly one of entity_id, input_digest or inputs (got {subjects})"
            )
        if self.inputs is not None:
            if not isinstance(self.inputs, Mapping):
                raise InvalidArgumentError("key inputs must be a JSON object (a mapping)")
            # Fail here, not on the wire: the server could not digest it either.
            canonical_json(self.inputs)

    @classmethod
    def parse(cls, text: str) -> Key:
        """``tenant/task_type/entity`` (the entity is everything after the second '/', unescaped),
        or ``tenant/task_type/#<64 hex>`` for a digest, as the ``prescient`` CLI reads keys."""
        tenant, sep1, rest = text.partition("/")
        task_type, sep2, subject = rest.partition("/")
        if not sep1 or not sep2:
            raise InvalidArgumentError(f"{text[:80]!r} is not tenant/task_type/entity")
        if subject.startswith("#") and _DIGEST.fullmatch(subject[1:]):
            return cls(tenant, task_type, input_digest=subject[1:])
        return cls(tenant, task_type, entity_id=subject)

    @classmethod
    def for_inputs(cls, tenant: str, task_type: str, inputs: Mapping[str, Any]) -> Key:
        """A semantic key digested here (RFC 8785 + SHA-256), the same key the server derives from ``inputs``."""
        return cls(tenant, task_type, input_digest=input_digest(inputs))

    def digest(self) -> str | None:
        """The input digest this key names, computing it from ``inputs`` if need be; None for entity keys."""
        if self.inputs is not None:
            return input_digest(self.inputs)
        return self.input_digest

    def __str__(self) -> str:
        subject = self.entity_id if self.entity_id is not None else f"#{self.digest()}"
        return f"{self.tenant}/{self.task_type}/{subject}"


KeyLike = Union[Key, str]


def to_key(key: KeyLike) -> Key:
    if isinstance(key, Key):
        return key
    if isinstance(key, str):
        return Key.parse(key)
    raise InvalidArgumentError(f"a key is a Key or a 'tenant/task_type/entity' string, not {type(key).__name__}")
