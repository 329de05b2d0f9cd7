import { InvalidArgumentError } from "@prescient/core";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/**
 * A model's configuration file (`<model>/config.yaml`, `.yml` or `.json`),
 * in the spirit of Triton's config.pbtxt. Every field has a default, so an
 * empty file serves the model on cpu with dynamic batching.
 */
export const executionProviders = ["cpu", "cuda", "webgpu"] as const;
export type ExecutionProviderName = (typeof executionProviders)[number];

const versionPolicySchema = z.union([
  z.object({ latest: z.number().int().positive() }).strict(),
  z.object({ specific: z.array(z.number().int().nonnegative()).min(1) }).strict(),
  z.object({ all: z.literal(true) }).strict(),
]);

const configSchema = z
  .object({
    /** Must equal the directory name when given. */
    name: z.string().optional(),
    /** Largest batch the batcher forms (rows along dim 0); 0 means the model takes no batch dimension. */
    max_batch_size: z
      .number()
      .int()
      .nonnegative()
      .max(1 << 20)
      .default(256),
    /** Off: every request runs on its own (still under the queue limits). */
    dynamic_batching: z.boolean().default(true),
    /**
     * How long the oldest queued request may wait for a batch to fill. 0 (as in Triton) still batches:
     * requests queue while every instance is busy and run together when one frees, without adding idle latency.
     */
    max_queue_delay_ms: z.number().nonnegative().max(60_000).default(0),
    /** Batch sizes that run at once when the queue holds exactly that many rows. */
    preferred_batch_sizes: z.array(z.number().int().positive()).default([]),
    /** Parallel sessions per version; each runs one batch at a time. */
    instance_count: z.number().int().positive().max(64).default(1),
    /**
     * Each instance's session on a worker thread of its own. onnxruntime-node computes on the thread that
     * calls it: on the event loop's, a batch's compute and the gRPC work of the next requests take turns,
     * and a long batch holds up every other call (health checks too). In a worker they overlap, for a
     * copy of each batch's inputs and outputs across threads.
     */
    run_in_worker: z.boolean().default(false),
    /** In order of preference. */
    execution_providers: z.array(z.enum(executionProviders)).min(1).default(["cpu"]),
    /** True: a provider that fails to start falls back to the next, with a warning. False: the load fails. */
    provider_fallback: z.boolean().default(true),
    /**
     * ONNX Runtime intra-op threads per session, the calling thread included: 1 suits small models
     * (scale with instances instead); a compute-bound model's large operators split across this many cores.
     */
    intra_op_threads: z.number().int().positive().max(256).default(1),
    /** Threads for independent branches of the graph; only with execution_mode: parallel. */
    inter_op_threads: z.number().int().positive().max(256).default(1),
    /** sequential runs one operator at a time (each across intra_op_threads); parallel also runs branches at once. */
    execution_mode: z.enum(["sequential", "parallel"]).default("sequential"),
    /**
     * Whether idle ORT pool threads busy-wait between operators. Off by default: spinning threads take
     * the CPU that the event loop needs to receive and answer the next requests.
     */
    intra_op_spinning: z.boolean().default(false),
    /** Priority levels 1 (highest) .. N, as in Triton; a request's `priority` parameter picks one. */
    priority_levels: z.number().int().positive().max(100).default(1),
    /** Level of requests that give no priority (or 0). Defaults to the lowest level. */
    default_priority_level: z.number().int().positive().optional(),
    /** Requests waiting beyond this many answer RESOURCE_EXHAUSTED. */
    max_queue_size: z.number().int().positive().default(4096),
    /** Longest a request may wait in the queue when it brings no deadline or timeout; 0 = unlimited. */
    default_queue_timeout_ms: z.number().nonnegative().default(0),
    version_policy: versionPolicySchema.default({ latest: 1 }),
  })
  .strict();

export type VersionPolicy = z.infer<typeof versionPolicySchema>;

export interface ModelConfig {
  maxBatchSize: number;
  dynamicBatching: boolean;
  maxQueueDelayMs: number;
  preferredBatchSizes: number[];
  instanceCount: number;
  runInWorker: boolean;
  executionProviders: ExecutionProviderName[];
  providerFallback: boolean;
  intraOpThreads: number;
  interOpThreads: number;
  executionMode: "sequential" | "parallel";
  intraOpSpinning: boolean;
  priorityLevels: number;
  defaultPriorityLevel: number;
  maxQueueSize: number;
  defaultQueueTimeoutMs: number;
  versionPolicy: VersionPolicy;
}

/** Parses and validates a config document; errors name the model, the field and the problem. */
export function parseModelConfig(text: string, model: string): ModelConfig {
  let doc: unknown;
  try {
    doc = text.trim() === "" ? {} : parseYaml(text);
  } catch (e) {
    throw new InvalidArgumentError(`model ${model}: config is not valid YAML/JSON: ${(e as Error).message}`);
  }
  const parsed = configSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new InvalidArgumentError(`model ${model}: invalid config: ${issues.join("; ")}`);
  }
  const c = parsed.data;
  const fail = (msg: string): never => {
    throw new InvalidArgumentError(`model ${model}: invalid config: ${msg}`);
  };
  if (c.name !== undefined && c.name !== model)
    fail(`name ${JSON.stringify(c.name)} differs from its directory`);
  const defaultLevel = c.default_priority_level ?? c.priority_levels;
  if (defaultLevel > c.priority_levels)
    fail(`default_priority_level ${defaultLevel} exceeds priority_levels ${c.priority_levels}`);
  const tooBig = c.preferred_batch_sizes.find((s) => s > c.max_batch_size);
  if (tooBig !== undefined) fail(`preferred batch size ${tooBig} exceeds max_batch_size ${c.max_batch_size}`);
  return {
    maxBatchSize: c.max_batch_size,
    dynamicBatching: c.dynamic_batching && c.max_batch_size > 0,
    maxQueueDelayMs: c.max_queue_delay_ms,
    preferredBatchSizes: [...c.preferred_batch_sizes].sort((a, b) => a - b),
    instanceCount: c.instance_count,
    runInWorker: c.run_in_worker,
    executionProviders: c.execution_providers,
    providerFallback: c.provider_fallback,
    intraOpThreads: c.intra_op_threads,
    interOpThreads: c.inter_op_threads,
    executionMode: c.execution_mode,
    intraOpSpinning: c.intra_op_spinning,
    priorityLevels: c.priority_levels,
    defaultPriorityLevel: defaultLevel,
    maxQueueSize: c.max_queue_size,
    defaultQueueTimeoutMs: c.default_queue_timeout_ms,
    versionPolicy: c.version_policy,
  };
}

/** The versions a policy serves, out of those present, highest first. */
export function selectVersions(policy: VersionPolicy, present: readonly number[]): number[] {
  const sorted = [...present].sort((a, b) => b - a);
  if ("latest" in policy) return sorted.slice(0, policy.latest);
  if ("specific" in policy) return sorted.filter((v) => policy.specific.includes(v));
  return sorted;
}
