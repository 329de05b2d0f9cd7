import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InvalidArgumentError, NotFoundError } from "./errors.js";

/**
 * The shared task-type configuration: what each kind of prediction is, how it
 * is computed, and how long its results stay fresh. Every service reads the
 * same file (`config/task-types.yaml`, or PRESCIENT_TASK_TYPES).
 */
const inputTensorSchema = z
  .object({
    /** Input tensor name of the model. */
    tensor: z.string().min(1),
    datatype: z.enum(["FP32", "FP64", "INT32", "INT64", "BOOL"]).default("FP32"),
    /** Entity features, in tensor column order. */
    features: z.array(z.string().min(1)).min(1),
    /** Value used for a feature the entity lacks; absent means the task fails. */
    default: z.number().optional(),
  })
  .strict();

const taskTypeSchema = z
  .object({
    kind: z.enum(["onnx", "external"]),
    /** Predictor model name (onnx). Defaults to the task type's name. */
    model: z.string().min(1).optional(),
    /** Model version; empty means the latest ready version. */
    model_version: z.string().default(""),
    inputs: z.array(inputTensorSchema).default([]),
    /** Output tensors kept in the result; empty keeps all. */
    outputs: z.array(z.string().min(1)).default([]),
    /** Address (host:port) of the TaskHandler for external types; env PRESCIENT_HANDLER_ADDR otherwise. */
    handler: z.string().min(1).optional(),
    ttl_seconds: z.number().positive(),
    /** How long after expiry a result may still be served, flagged stale. */
    stale_grace_seconds: z.number().nonnegative().default(0),
    /** XFetch beta: above 1 refreshes earlier, 0 turns early refresh off. */
    xfetch_beta: z.number().nonnegative().default(1),
    default_priority: z.number().int().min(1).max(10).default(5),
    description: z.string().default(""),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.kind === "onnx" && t.inputs.length === 0)
      ctx.addIssue({ code: "custom", message: "an onnx task type needs at least one input tensor" });
  });

const fileSchema = z
  .object({
    task_types: z.record(
      z.string().regex(/^[a-z][a-z0-9_]*$/, "task type names match [a-z][a-z0-9_]*"),
      taskTypeSchema,
    ),
  })
  .passthrough();

export interface InputTensorSpec {
  tensor: string;
  datatype: "FP32" | "FP64" | "INT32" | "INT64" | "BOOL";
  features: string[];
  default?: number;
}

export interface TaskType {
  name: string;
  kind: "onnx" | "external";
  model: string;
  modelVersion: string;
  inputs: InputTensorSpec[];
  outputs: string[];
  handler?: string;
  ttlMs: number;
  staleGraceMs: number;
  xfetchBeta: number;
  defaultPriority: number;
  description: string;
}

export class TaskTypeRegistry {
  readonly #types: Map<string, TaskType>;
  /** The parsed file, for sections other services own (rules, schedules). */
  readonly raw: Record<string, unknown>;

  constructor(types: Iterable<TaskType>, raw: Record<string, unknown> = {}) {
    this.#types = new Map([...types].map((t) => [t.name, t]));
    this.raw = raw;
  }

  has(name: string): boolean {
    return this.#types.has(name);
  }

  /** The task type; an unknown name is the caller's mistake, so INVALID_ARGUMENT. */
  get(name: string): TaskType {
    const t = this.#types.get(name);
    if (t === undefined)
      throw new InvalidArgumentError(
        `unknown task type ${JSON.stringify(name.slice(0, 80))}; known: ${[...this.#types.keys()].join(", ")}`,
      );
    return t;
  }

  list(): TaskType[] {
    return [...this.#types.values()];
  }
}

/** Parses and validates a task-type document (YAML or JSON text). */
export function parseTaskTypes(text: string, source = "task types"): TaskTypeRegistry {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new InvalidArgumentError(`${source}: not valid YAML/JSON: ${(e as Error).message}`);
  }
  const parsed = fileSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new InvalidArgumentError(`${source}: ${issues.join("; ")}`);
  }
  const types = Object.entries(parsed.data.task_types).map(
    ([name, t]): TaskType => ({
      name,
      kind: t.kind,
      model: t.model ?? name,
      modelVersion: t.model_version,
      inputs: t.inputs.map((i) => ({
        tensor: i.tensor,
        datatype: i.datatype,
        features: i.features,
        ...(i.default !== undefined ? { default: i.default } : {}),
      })),
      outputs: t.outputs,
      ...(t.handler !== undefined ? { handler: t.handler } : {}),
      ttlMs: t.ttl_seconds * 1000,
      staleGraceMs: t.stale_grace_seconds * 1000,
      xfetchBeta: t.xfetch_beta,
      defaultPriority: t.default_priority,
      description: t.description,
    }),
  );
  return new TaskTypeRegistry(types, parsed.data as Record<string, unknown>);
}

export function loadTaskTypes(path: string): TaskTypeRegistry {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new NotFoundError(`cannot read task types from ${path}: ${(e as Error).message}`);
  }
  return parseTaskTypes(text, path);
}

/** The example configuration shipped at the repository root. */
export const defaultTaskTypesPath: string = fileURLToPath(
  new URL("../../../config/task-types.yaml", import.meta.url),
);
