import type { InputTensorSpec, TaskType } from "@prescient/core";
import type { Features } from "../entities/entity-store.js";

/** One input tensor of a batch, row-major, numbers in the tensor's datatype. */
export interface BatchTensor {
  name: string;
  datatype: InputTensorSpec["datatype"];
  shape: [number, number];
  values: number[];
}

export interface BuiltBatch {
  /** Positions (in the caller's list) of the rows that made it into the tensors, in row order. */
  rows: number[];
  tensors: BatchTensor[];
  /** Rows that could not be built, each with the reason; they fail alone. */
  failures: { index: number; reason: string }[];
}

/**
 * Builds a task type's input tensors from entity features, one row per task.
 * A task with a missing or non-numeric feature (and no default) is set aside
 * with a reason rather than failing the batch.
 */
export function buildInputs(taskType: TaskType, features: readonly (Features | undefined)[]): BuiltBatch {
  const rows: number[] = [];
  const failures: BuiltBatch["failures"] = [];
  const columns = taskType.inputs.map(() => [] as number[]);

  features.forEach((entity, index) => {
    if (entity === undefined) {
      failures.push({
        index,
        reason: "no features stored for this entity (send them with the trigger or enqueue)",
      });
      return;
    }
    const rowValues: number[][] = [];
    for (const spec of taskType.inputs) {
      const values: number[] = [];
      for (const name of spec.features) {
        const value = toNumber(entity[name], spec.datatype) ?? spec.default;
        if (value === undefined) {
          const got = entity[name];
          failures.push({
            index,
            reason:
              got === undefined
                ? `feature ${name} is missing for input ${spec.tensor}`
                : `feature ${name} is ${JSON.stringify(got).slice(0, 40)}, not a number, for input ${spec.tensor}`,
          });
          return;
        }
        values.push(value);
      }
      rowValues.push(values);
    }
    rows.push(index);
    rowValues.forEach((values, i) => {
      columns[i]?.push(...values);
    });
  });

  const tensors = taskType.inputs.map(
    (spec, i): BatchTensor => ({
      name: spec.tensor,
      datatype: spec.datatype,
      shape: [rows.length, spec.features.length],
      values: columns[i] ?? [],
    }),
  );
  return { rows, tensors, failures };
}

function toNumber(
  value: Features[string] | undefined,
  datatype: InputTensorSpec["datatype"],
): number | undefined {
  if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
  if (datatype === "BOOL") return value !== 0 ? 1 : 0;
  if (datatype === "INT32" || datatype === "INT64") return Math.trunc(value);
  return value;
}
