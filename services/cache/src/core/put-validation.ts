import type { cacheV1, commonV1 } from "@prescient/contracts";
import { InvalidArgumentError, type TaskTypeRegistry } from "@prescient/core";
import { resolveKey, withField } from "@prescient/kit";
import type { StoreWrite } from "../store/cache-store.js";

export const putLimits = {
  maxTags: 32,
  tagMaxBytes: 256,
  modelNameMaxBytes: 256,
  modelVersionMaxBytes: 64,
  /** Ten years: longer is surely a unit mistake, and keeps dates in range. */
  maxTtlSeconds: 10 * 365 * 24 * 3600,
  /** How far computed_at may lie ahead of the cache's clock (clock skew). */
  maxFutureSkewMs: 5 * 60_000,
  /** Tensors per value, and dimensions per tensor (ONNX models stay far below). */
  maxTensors: 64,
  maxRank: 32,
  tensorNameMaxBytes: 256,
} as const;

/**
 * Validates one PutEntry and builds the store write: expires_at is
 * computed_at plus the TTL (the entry's ttl_seconds, else its type's), and
 * the store may forget it a stale-grace window later.
 */
export function validatePutEntry(
  registry: TaskTypeRegistry,
  entry: cacheV1.PutEntry | undefined,
  nowMs: number,
  field: string,
): StoreWrite {
  if (entry === undefined) throw new InvalidArgumentError(`${field} is required`);
  const { key, parts, type } = resolveKey(registry, entry.key, `${field}.key`);
  return withField(field, () => {
    const value = checkValue(entry.value);
    let ttlMs = type.ttlMs;
    if (entry.ttlSeconds !== undefined) {
      const ttl = entry.ttlSeconds;
      if (!Number.isFinite(ttl) || ttl <= 0)
        throw new InvalidArgumentError(`ttl_seconds must be positive (got ${ttl})`);
      if (ttl > putLimits.maxTtlSeconds)
        throw new InvalidArgumentError(`ttl_seconds must be at most ${putLimits.maxTtlSeconds} (got ${ttl})`);
      ttlMs = ttl * 1000;
    }
    const computedAtMs = entry.computedAt === undefined ? nowMs : entry.computedAt.getTime();
    if (!Number.isFinite(computedAtMs)) throw new InvalidArgumentError("computed_at is not a valid time");
    if (computedAtMs > nowMs + putLimits.maxFutureSkewMs)
      throw new InvalidArgumentError("computed_at lies in the future");
    if (!Number.isFinite(entry.computeMs) || entry.computeMs < 0)
      throw new InvalidArgumentError(`compute_ms must be a non-negative number (got ${entry.computeMs})`);
    checkText("model_name", entry.modelName, putLimits.modelNameMaxBytes);
    checkText("model_version", entry.modelVersion, putLimits.modelVersionMaxBytes);
    if (entry.inputDigest !== "" && !/^[0-9a-f]{64}$/.test(entry.inputDigest))
      throw new InvalidArgumentError("input_digest must be empty or 64 lowercase hex characters");
    const expiresAtMs = computedAtMs + ttlMs;
    const result: commonV1.Result = {
      value,
      modelName: entry.modelName,
      modelVersion: entry.modelVersion,
      computedAt: new Date(computedAtMs),
      expiresAt: new Date(expiresAtMs),
      computeMs: entry.computeMs,
      // A semantic key already names the digest of its inputs.
      inputDigest: entry.inputDigest !== "" ? entry.inputDigest : (parts.digest ?? ""),
      tags: checkTags(entry.tags),
    };
    return {
      key,
      tenant: parts.tenant,
      taskType: parts.taskType,
      result,
      physicalExpiryMs: expiresAtMs + type.staleGraceMs,
    };
  });
}

function checkValue(value: commonV1.Value | undefined): commonV1.Value {
  if (value === undefined) throw new InvalidArgumentError("value is required");
  const hasTensors = value.tensors !== undefined;
  const hasPayload = value.payload !== undefined;
  if (hasTensors === hasPayload)
    throw new InvalidArgumentError("value needs exactly one of tensors or payload");
  const tensors = value.tensors?.tensors ?? [];
  if (tensors.length > putLimits.maxTensors)
    throw new InvalidArgumentError(
      `value has ${tensors.length} tensors; the limit is ${putLimits.maxTensors}`,
    );
  for (const [i, t] of tensors.entries()) {
    if (t.name === "") throw new InvalidArgumentError(`value.tensors[${i}].name is empty`);
    checkText(`value.tensors[${i}].name`, t.name, putLimits.tensorNameMaxBytes);
    if (t.shape.length > 0) checkShape(t.shape, t.data.length, `value.tensors[${i}]`);
  }
  return value;
}

/**
 * The shape must hold exactly the values sent. Rank is bounded before the
 * loop, and the product stops growing once it passes the value count, so a
 * shape of huge dimensions costs no more than a small one.
 */
function checkShape(shape: readonly bigint[], values: number, where: string): void {
  if (shape.length > putLimits.maxRank)
    throw new InvalidArgumentError(`${where} has rank ${shape.length}; the limit is ${putLimits.maxRank}`);
  const limit = BigInt(values);
  let elements = 1n;
  for (const d of shape) {
    if (d < 0n) throw new InvalidArgumentError(`${where} has a negative dimension`);
    if (d === 0n) elements = 0n;
    else if (elements <= limit) elements *= d;
  }
  if (elements !== limit) {
    const text = shape.length <= 8 ? `[${shape.join(", ")}]` : `of rank ${shape.length}`;
    throw new InvalidArgumentError(`${where} has shape ${text.slice(0, 200)} but ${values} values`);
  }
}

function checkTags(tags: readonly string[]): string[] {
  if (tags.length > putLimits.maxTags)
    throw new InvalidArgumentError(`at most ${putLimits.maxTags} tags per entry (got ${tags.length})`);
  for (const tag of tags) {
    if (tag === "") throw new InvalidArgumentError("tags may not be empty");
    checkText("tag", tag, putLimits.tagMaxBytes);
  }
  return [...new Set(tags)];
}

/** Rejects text that is not valid UTF-8 (see validateEntityId) or too long. */
export function checkText(field: string, text: string, maxBytes: number): void {
  if (text.includes("\uFFFD") || !text.isWellFormed())
    throw new InvalidArgumentError(`${field} is not valid UTF-8`);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes)
    throw new InvalidArgumentError(`${field} is ${bytes} bytes; the limit is ${maxBytes} bytes`);
}
