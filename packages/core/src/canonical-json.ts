import { createHash } from "node:crypto";
import { InvalidArgumentError } from "./errors.js";

/**
 * Canonical JSON: object keys sorted by code point, no whitespace, numbers in
 * their shortest round-trip form (so 1, 1.0 and 1e0 agree, and -0 is 0).
 * Non-finite numbers and non-JSON values are rejected rather than silently
 * changed, because two different inputs must never share a digest.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, "$");
}

function encode(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new InvalidArgumentError(`${path} is not a finite number`);
      return Object.is(value, -0) ? "0" : JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((v, i) => encode(v, `${path}[${i}]`)).join(",")}]`;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      const parts: string[] = [];
      for (const k of keys) {
        if (record[k] === undefined) continue;
        parts.push(`${JSON.stringify(k)}:${encode(record[k], `${path}.${k}`)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new InvalidArgumentError(`${path} is a ${typeof value}, which JSON cannot hold`);
  }
}

/** Hex SHA-256 of the canonical JSON of `value`. */
export function inputDigest(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}
