import { createHash } from "node:crypto";
import type { InputTensorSpec, TaskTypeRegistry } from "@prescient/core";

/**
 * Entity features for `prescient replay --live`: a trace names entities but
 * carries none of their features, and the mesh computes an onnx task type
 * only from features (the executor builds its input tensors from the entity
 * store). The replay therefore makes up a feature record for every entity it
 * touches, derived from a hash of tenant and entity alone: the same record on
 * every call and every run, with no random state to carry.
 *
 * The record covers every feature an onnx task type of the configuration
 * declares as an input. A feature of a model that has a sampler (the shipped
 * example models' training distributions, passed in by the CLI) is drawn
 * from it, seeded by the hash, so its values are the model's plausible ones;
 * any other feature gets a value its datatype allows: 0 or 1 for BOOL, an
 * integer 0..9 for INT32/INT64, [0, 1) for FP32/FP64. A feature two types
 * declare takes the value of the first type by name. Every input is numeric
 * (the configuration has no categorical inputs), so there are no strings.
 */
export interface FeatureSampler {
  /** The features a row holds, in order. */
  readonly features: readonly string[];
  /** A plausible row, the same for the same seed. */
  sample(seed: number): readonly number[];
}

export interface SyntheticFeatures {
  /** Every feature the records hold, in order. */
  readonly names: readonly string[];
  /** Whether the mesh builds this task type's inputs from entity features (an onnx type). */
  uses(taskType: string): boolean;
  /** The entity's record; empty when no task type takes features. */
  of(tenant: string, entity: string): Record<string, number>;
}

interface Column {
  name: string;
  datatype: InputTensorSpec["datatype"];
  /** The model whose sampler draws it, and where in the sampler's row. */
  sampled?: { model: string; index: number };
}

/** A uint32 from the hash of tenant, entity and what the number is for. */
export function entitySeed(tenant: string, entity: string, salt: string): number {
  return createHash("sha256").update(`${tenant}\u0000${entity}\u0000${salt}`).digest().readUInt32LE(0);
}

function asDatatype(value: number, datatype: InputTensorSpec["datatype"]): number {
  if (datatype === "BOOL") return value !== 0 ? 1 : 0;
  if (datatype === "INT32" || datatype === "INT64") return Math.trunc(value);
  return value;
}

function generic(seed: number, datatype: InputTensorSpec["datatype"]): number {
  const u = seed / 2 ** 32;
  if (datatype === "BOOL") return u < 0.5 ? 0 : 1;
  if (datatype === "INT32" || datatype === "INT64") return Math.floor(u * 10);
  return u;
}

export function syntheticFeatures(
  registry: TaskTypeRegistry,
  samplers: ReadonlyMap<string, FeatureSampler> = new Map(),
): SyntheticFeatures {
  const onnx = registry
    .list()
    .filter((t) => t.kind === "onnx")
    .sort((a, b) => a.name.localeCompare(b.name));
  const columns = new Map<string, Column>();
  for (const type of onnx)
    for (const input of type.inputs)
      for (const name of input.features) {
        if (columns.has(name)) continue;
        const index = samplers.get(type.model)?.features.indexOf(name) ?? -1;
        columns.set(name, {
          name,
          datatype: input.datatype,
          ...(index >= 0 ? { sampled: { model: type.model, index } } : {}),
        });
      }
  const users = new Set(onnx.map((t) => t.name));
  const models = [...new Set([...columns.values()].flatMap((c) => (c.sampled ? [c.sampled.model] : [])))];
  return {
    names: [...columns.keys()],
    uses: (taskType) => users.has(taskType),
    of(tenant, entity) {
      const rows = new Map(
        models.map((m) => [m, samplers.get(m)?.sample(entitySeed(tenant, entity, `model:${m}`)) ?? []]),
      );
      const out: Record<string, number> = {};
      for (const c of columns.values()) {
        const drawn = c.sampled ? rows.get(c.sampled.model)?.[c.sampled.index] : undefined;
        out[c.name] =
          drawn !== undefined && Number.isFinite(drawn)
            ? asDatatype(drawn, c.datatype)
            : generic(entitySeed(tenant, entity, `feature:${c.name}`), c.datatype);
      }
      return out;
    },
  };
}
