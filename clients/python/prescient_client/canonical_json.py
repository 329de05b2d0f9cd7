"""RFC 8785 (JCS) canonical JSON and the input digest of semantic keys.

The same rules as packages/core/src/canonical-json.ts, checked against the same
vectors (packages/core/test-vectors/canonical-json.json), so a digest computed
here names the same cache entry as the server's digest of ``Key.inputs``:

- objects: members sorted by their names' UTF-16 code units (not code points:
  U+1F600 sorts before U+FB33 because its first unit is 0xD83D), no whitespace;
- strings: as ECMAScript's JSON.stringify writes them: ``"`` and ``\\`` escaped,
  ``\\b \\f \\n \\r \\t`` in short form, other controls as ``\\u00xx``, the rest
  raw (UTF-8 in the digest);
- numbers: IEEE-754 doubles written as ECMAScript's Number.prototype.toString
  does (shortest round-trip digits; exponent form from 1e21 up and below 1e-6;
  -0 is 0). Integers are doubles too, so 2**53 + 1 digests as 2**53, exactly as
  it would after travelling in a google.protobuf.Struct.

NaN, infinities, lone surrogates (which I-JSON, JCS's input, forbids) and
values JSON cannot hold are rejected rather than changed, because two
different inputs must never share a digest.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

from .errors import InvalidArgumentError

__all__ = ["canonical_json", "input_digest", "ecmascript_number"]


def canonical_json(value: Any) -> str:
    """The RFC 8785 canonical JSON text of ``value`` (dicts, lists, tuples, str, int, float, bool, None)."""
    out: list[str] = []
    _encode(value, "$", out)
    return "".join(out)


def input_digest(value: Any) -> str:
    """Hex SHA-256 of the UTF-8 canonical JSON of ``value``: the ``#digest`` part of a semantic key."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def _encode(value: Any, path: str, out: list[str]) -> None:
    # bool before int: True is an int in Python, and must stay a literal.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value, path))
    elif isinstance(value, (int, float)):
        out.append(_number(value, path))
    elif isinstance(value, Mapping):
        names = list(value.keys())
        for name in names:
            if not isinstance(name, str):
                raise InvalidArgumentError(f"{path} has a {type(name).__name__} key; JSON names are strings")
            _check_unicode(name, f"{path} key {name!r}")
        # UTF-16BE bytes compare as the code units do; JCS orders names by code units.
        names.sort(key=lambda n: n.encode("utf-16-be"))
        out.append("{")
        for i, name in enumerate(names):
            if i:
                out.append(",")
            out.append(_string(name, path))
            out.append(":")
            _encode(value[name], f"{path}.{name}", out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, f"{path}[{i}]", out)
        out.append("]")
    else:
        raise InvalidArgumentError(f"{path} is a {type(value).__name__}, which JSON cannot hold")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    c = match.group(0)
    return _ESCAPES.get(c) or f"\\u{ord(c):04x}"


def _check_unicode(text: str, where: str) -> None:
    # A Python str holds code points, so any surrogate in it is a lone one (json.loads keeps
    # "\ud800" as such); it has no UTF-8 form and the server can never receive it.
    if _SURROGATE.search(text):
        raise InvalidArgumentError(f"{where} holds a lone surrogate, which is not Unicode text")


def _string(text: str, path: str) -> str:
    _check_unicode(text, path)
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _number(value: int | float, path: str) -> str:
    try:
        x = float(value)
    except OverflowError:
        raise InvalidArgumentError(f"{path} is too large for a double") from None
    if not math.isfinite(x):
        raise InvalidArgumentError(f"{path} is not a finite number")
    return ecmascript_number(x)


def ecmascript_number(x: float) -> str:
    """Number::toString(x) of ECMAScript (ES2022 6.1.6.1.20) for a finite double."""
    if x == 0:
        return "0"  # and -0
    if x < 0:
        return "-" + ecmascript_number(-x)
    # repr gives the shortest digits that round-trip (David Gay's algorithm, as ECMAScript asks
    # for), in its own layout: '1e+16', '4.5', '1.2e-07', '333333333.3333333'.
    mantissa, _, exp_text = repr(x).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    # n: where the decimal point goes, as in the spec's x = 0.d1d2...dk * 10^n.
    n = len(whole) + (int(exp_text) if exp_text else 0)
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    exponent = n - 1
    sign = "+" if exponent >= 0 else "-"
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{sign}{abs(exponent)}"
