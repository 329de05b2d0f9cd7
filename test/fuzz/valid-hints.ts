import { readFileSync } from "node:fs";
import fc, { type Arbitrary } from "fast-check";
import { parse } from "yaml";
import type { Hints } from "./descriptor-arbitrary.js";

/** The shipped configuration: its names are what a real client sends. */
interface ShippedConfig {
  task_types: Record<string, { inputs?: { features?: string[] }[] }>;
  rules?: Record<string, unknown>;
  schedules?: Record<string, unknown>;
}

const config = parse(
  readFileSync(new URL("../../config/task-types.yaml", import.meta.url), "utf8"),
) as ShippedConfig;

export const taskTypes = Object.keys(config.task_types);
export const exampleModels = ["ctr_prediction", "roas_prediction", "variant_scoring"];
const eventTypes = Object.keys(config.rules ?? {});
const schedules = Object.keys(config.schedules ?? {});
const featureNames = [
  ...new Set(
    Object.values(config.task_types).flatMap((t) => t.inputs?.flatMap((i) => i.features ?? []) ?? []),
  ),
];

/** Keys of Object.prototype: the odd names that find a member of a plain object used as a map. */
const protoNames = ["__proto__", "constructor", "valueOf", "hasOwnProperty", "toString"];

/** Mostly a plausible value, sometimes an odd one: the edges of the valid region. */
function mostly<T>(usual: Arbitrary<T>, odd: Arbitrary<T>): Arbitrary<T> {
  return fc.oneof({ weight: 19, arbitrary: usual }, { weight: 1, arbitrary: odd });
}

const tenant = mostly(
  fc.constantFrom("acme", "globex"),
  fc.constantFrom("", "ACME", "a/b", "*", "x".repeat(300), ...protoNames),
);
const taskType = mostly(
  fc.constantFrom(...taskTypes),
  fc.constantFrom("", "unknown_type", "ctr_prediction ", ...protoNames),
);
const entityId = mostly(
  fc.oneof(
    fc.nat(30).map((n) => `ad-${n}`),
    fc.nat(5).map((n) => `campaign-${n}`),
    fc.nat(5).map((n) => `video-${n}`),
  ),
  fc.constantFrom("", "*", "a/b", "ad-*", "\u0000", "x".repeat(2_000)),
);
const key = fc
  .tuple(tenant, taskType, entityId, fc.constantFrom("", "", "", "*"))
  .map(([t, tt, e, glob]) => `${t}/${tt}/${e}${glob}`);
const smallCount = mostly(fc.nat(50), fc.constantFrom(0, 1_000, 10_001, 2 ** 32 - 1));
const nowS = BigInt(Math.floor(Date.now() / 1000));
const timestamp = mostly(
  fc.record({
    seconds: fc.bigInt({ min: nowS - 86_400n * 30n, max: nowS + 86_400n * 30n }),
    nanos: fc.nat(999_999_999),
  }),
  fc.record({
    seconds: fc.constantFrom(0n, -1n, -(2n ** 63n), 2n ** 63n - 1n, 253_402_300_800n),
    nanos: fc.constantFrom(0, -1, 1_000_000_000, 2 ** 31 - 1),
  }),
);

/** Field-name (and message type-name) hints for the "valid" flavour of generated requests. */
export const validHints: Hints = {
  tenant,
  task_type: taskType,
  task_types: taskType,
  entity_id: entityId,
  entity_ids: entityId,
  related_entity_ids: entityId,
  entity_prefix: fc.constantFrom("", "ad-", "campaign-", "*"),
  campaign_id: entityId,
  user_id: mostly(
    fc.nat(10).map((n) => `user-${n}`),
    fc.constantFrom("", "x".repeat(2_000)),
  ),
  key,
  keys: key,
  ids: mostly(
    fc.integer({ min: 1, max: 5_000 }).map(String),
    fc.constantFrom("", "0", "task-1", "9".repeat(21), "acme/ctr_prediction/ad-1"),
  ),
  input_digest: mostly(
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString("hex")),
    fc.constantFrom("", "ABC", "0".repeat(63)),
  ),
  subject: entityId,
  hours_ahead: mostly(fc.double({ min: 0, max: 8_784, noNaN: true }), fc.constantFrom(-1, Number.NaN, 1e9)),
  page_token: fc.constantFrom("", "", "", "x"),
  "prescient.analyzer.v1.Launch.launch_at": mostly(
    fc.record({
      seconds: fc.bigInt({ min: nowS + 3_600n, max: nowS + 86_400n * 30n }),
      nanos: fc.constant(0),
    }),
    timestamp,
  ),
  "prescient.analyzer.v1.Launch.id": mostly(
    fc.nat(20).map((n) => `launch-${n}`),
    fc.constantFrom("", "-x", "a/b"),
  ),
  "prescient.executor.v1.GetTaskRequest.id": mostly(
    fc.integer({ min: 1, max: 5_000 }).map(String),
    fc.constantFrom("", "0", "x"),
  ),
  // Inference: the example models take one FP32 tensor "features" of [batch, n] values.
  "inference.ModelInferRequest.model_version": mostly(
    fc.constantFrom("", "1"),
    fc.constantFrom("2", "latest"),
  ),
  "inference.ModelInferRequest.model_name": mostly(
    fc.constantFrom(...exampleModels),
    fc.constantFrom("", "nope"),
  ),
  // Whole tensors, so that shape, datatype and values agree; the odd ones come from the wild flavour.
  "inference.ModelInferRequest.inputs": fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom(6, 8))
    .chain(([b, n]) =>
      fc
        .array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: b * n, maxLength: b * n })
        .map((v) => [
          {
            name: "features",
            datatype: "FP32",
            shape: [BigInt(b), BigInt(n)],
            contents: { fp32Contents: v },
          },
        ]),
    ),
  "prescient.common.v1.Tensors.tensors": fc
    .array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 8 })
    .map((data) => [{ name: "probability", datatype: "FP32", shape: [BigInt(data.length)], data }]),
  "inference.ModelInferRequest.raw_input_contents": mostly<Uint8Array[]>(
    fc.constant([]),
    fc.constant([new Uint8Array(32)]),
  ),
  "prescient.cache.v1.PutEntry.computed_at": mostly(
    fc.record({ seconds: fc.bigInt({ min: nowS - 86_400n, max: nowS - 1n }), nanos: fc.constant(0) }),
    timestamp,
  ),
  pattern: fc.constantFrom("acme/*", "acme/ctr_prediction/*", "*", "", "acme/ctr_prediction/ad-1", "**/**"),
  prefix: fc.constantFrom("acme/", "", "acme/ctr_prediction/"),
  tag: fc.constantFrom("spring", "", "*"),
  tags: fc.constantFrom("spring", "summer", ""),
  schedule: mostly(fc.constantFrom(...schedules), fc.constantFrom("", "nope", ...protoNames)),
  type: mostly(fc.constantFrom(...eventTypes), fc.constantFrom("", "unknown_event", ...protoNames)),
  event: mostly(fc.constantFrom(...eventTypes), fc.constantFrom("", "unknown_event", ...protoNames)),
  action: fc.constantFrom("open_dashboard", "view_campaign", "", "x".repeat(500)),
  model_name: mostly(
    fc.constantFrom(...exampleModels),
    fc.constantFrom("", "nope", "../models", ...protoNames),
  ),
  name: mostly(
    fc.constantFrom(...exampleModels, "features", "probability"),
    fc.constantFrom("", "../etc", ".", "..", ...protoNames),
  ),
  model_version: fc.constantFrom("", "1", "2", "latest"),
  version: fc.constantFrom("", "1", "2"),
  datatype: mostly(
    fc.constantFrom("FP32", "FP64", "INT64", "INT32", "BOOL", "BYTES"),
    fc.constantFrom("", "FP16", "fp32", ...protoNames),
  ),
  content_type: fc.constantFrom("application/json", "application/octet-stream", "", "text/plain"),
  shape: mostly(fc.bigInt({ min: 0n, max: 8n }), fc.constantFrom(-1n, 2n ** 31n, 2n ** 63n - 1n)),
  data: mostly(
    fc.double({ min: -10, max: 10, noNaN: true }),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY),
  ),
  fp32_contents: fc.float({ min: -10, max: 10, noNaN: true }),
  priority: mostly(fc.nat(10), fc.constantFrom(11, 2 ** 32 - 1)),
  ttl_seconds: mostly(fc.double({ min: 1, max: 86_400, noNaN: true }), fc.constantFrom(0, -1, Number.NaN)),
  page_size: smallCount,
  limit: smallCount,
  days_to_keep: smallCount,
  duration_minutes: smallCount,
  timezone: fc.constantFrom("UTC", "Europe/Paris", "", "Not/AZone"),
  "features.key": mostly(
    fc.constantFrom(...featureNames),
    fc.constantFrom("", "unknown_feature", ...protoNames),
  ),
  "attributes.key": fc.constantFrom("campaign_id", "platform", "", "__proto__"),
  "google.protobuf.Timestamp": timestamp,
};
