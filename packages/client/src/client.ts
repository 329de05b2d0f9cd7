import type { ClientUnaryCall, CallOptions as GrpcCallOptions, Metadata, ServiceError } from "@grpc/grpc-js";
import { cacheV1, type commonV1, executorV1, inference, precomputerV1 } from "@prescient/contracts";
import {
  type Features,
  InternalError,
  InvalidArgumentError,
  type LookupOutcome,
  type TaskReason,
  validateFeatures,
} from "@prescient/core";
import { callUnary } from "@prescient/kit/calls";
import { featuresToProto, outcomeOfLookup, reasonToProto } from "@prescient/kit/wire";
import { clientError } from "./errors.js";
import { type InferResult, inferRequest, inferResult, type TensorInput } from "./infer.js";
import { type KeyInput, toWireKey } from "./keys.js";
import { type LookupManyKeys, lookupManyKeys } from "./lookup-many-keys.js";
import { type ClientOptions, resolveClientOptions, type ServiceRole } from "./options.js";
import { decodeLookupResults, type LookupResultsAnswer } from "./results-decoder.js";
import { SingleFlight } from "./single-flight.js";
import { Transport } from "./transport.js";
import { type DecodedValue, decodeValue, toValue } from "./values.js";
import { decodeLookupValues, type LookupValuesAnswer } from "./values-decoder.js";

/** Settings any call may override. */
export interface CallOptions {
  /** This call's deadline, ms from now; the client's `deadlineMs` when unset. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

export interface LookupOptions extends CallOptions {
  /** What the cache does on a miss: nothing (default), queue a task, or compute now and answer. */
  onMiss?: "none" | "enqueue" | "compute";
  /** The entity's features, for a miss the cache enqueues or computes. */
  features?: Features;
  /** Who asked, so the analyzer learns per user. */
  userId?: string;
  /** Treat a stale result as a miss. */
  rejectStale?: boolean;
}

export interface LookupResult {
  /** The canonical key. */
  key: string;
  outcome: LookupOutcome;
  /** The decoded value on a hit or stale hit, and after onMiss "compute". */
  value: DecodedValue | undefined;
  computedAt: Date | undefined;
  expiresAt: Date | undefined;
  /** True when this lookup computed the value (onMiss "compute"). */
  computed: boolean;
  /** The queued task, when onMiss "enqueue" queued one. */
  taskId: string | undefined;
  /** The stored result as it came over the wire (model, version, tags, compute time). */
  raw: commonV1.Result | undefined;
}

export interface PutOptions extends CallOptions {
  /** Time to live, s; the task type's TTL when unset. */
  ttlSeconds?: number;
  tags?: string[];
  modelName?: string;
  modelVersion?: string;
  /** How long computing it took, ms. */
  computeMs?: number;
}

export interface PutEntry extends Omit<PutOptions, keyof CallOptions> {
  key: KeyInput;
  value: unknown;
}

/** A domain event for the precomputer's rules: `video_uploaded`, `user_login`, ... */
export interface TriggerEvent {
  type: string;
  tenant: string;
  entityId?: string;
  userId?: string;
  features?: Features;
  attributes?: Record<string, string>;
  time?: Date;
  relatedEntityIds?: string[];
}

export interface TriggerResult {
  /** Task ids queued, per task type. */
  queued: Record<string, string[]>;
  /** Keys skipped because their result was still fresh. */
  skippedFresh: string[];
}

export type InvalidateSelector =
  | { key: KeyInput }
  | { tenant: string; prefix: string }
  | { tenant: string; pattern: string }
  | { tenant: string; tag: string }
  | { tenant?: string; taskType: string };

export interface EnqueueOptions extends CallOptions {
  /** 1 (lowest) to 10; the task type's default when unset. */
  priority?: number;
  reason?: TaskReason;
  features?: Features;
  notBefore?: Date;
}

const onMissOf = {
  none: cacheV1.OnMiss.ON_MISS_NONE,
  enqueue: cacheV1.OnMiss.ON_MISS_ENQUEUE,
  compute: cacheV1.OnMiss.ON_MISS_COMPUTE,
} as const;

/** Bounds a request checks before it loops or sends: the server refuses more anyway. */
export const clientLimits = { maxKeysPerCall: 10_000, maxEventsPerCall: 1_000 } as const;

/**
 * prescient for a backend: lookups in about a millisecond, cache-aside with
 * single-flight, puts, invalidation, triggers, tasks and inference. Every call
 * has a deadline, retries UNAVAILABLE with backoff, and fails with a domain
 * error (`isUnavailable(e)`, `isInvalidArgument(e)`, ...). One channel per
 * address is shared by all calls; `close()` releases it.
 */
export class PrescientClient {
  readonly #transport: Transport;
  readonly #cache: cacheV1.CacheServiceClient;
  readonly #precomputer: precomputerV1.PrecomputerServiceClient;
  readonly #executor: executorV1.ExecutorServiceClient;
  readonly #predictor: inference.GRPCInferenceServiceClient;
  readonly #flights = new SingleFlight<unknown>();
  /** False once a cache answered a compact LookupMany with nothing: one from before the form, which ignores it. */
  #compactLookupMany = true;

  constructor(options: Partial<ClientOptions> = {}) {
    this.#transport = new Transport(resolveClientOptions(options));
    const make = <C>(
      Ctor: new (a: string, c: Transport["credentials"], o: object) => C,
      role: ServiceRole,
    ): C =>
      new Ctor(this.#transport.addressOf(role), this.#transport.credentials, {
        channelOverride: this.#transport.channel(role),
      });
    this.#cache = make(cacheV1.CacheServiceClient, "cache");
    this.#precomputer = make(precomputerV1.PrecomputerServiceClient, "precomputer");
    this.#executor = make(executorV1.ExecutorServiceClient, "executor");
    this.#predictor = make(inference.GRPCInferenceServiceClient, "predictor");
  }

  async lookup(key: KeyInput, options: LookupOptions = {}): Promise<LookupResult> {
    const k = toWireKey(key);
    const features = options.features ? featuresToProto(validateFeatures(options.features, "features")) : {};
    const r = await this.#call("Lookup", options, (settings) =>
      callUnary(
        this.#cache.lookup.bind(this.#cache),
        {
          key: k.proto,
          onMiss: onMissOf[options.onMiss ?? "none"],
          features,
          userId: options.userId ?? "",
          rejectStale: options.rejectStale ?? false,
        },
        settings,
      ),
    );
    return lookupResult(r);
  }

  /** Many keys in one call, answered in order. */
  async lookupMany(
    keys: readonly KeyInput[],
    options: Omit<LookupOptions, "features" | "onMiss"> & { onMiss?: "none" | "enqueue" } = {},
  ): Promise<LookupResult[]> {
    const r = await this.#lookupMany(keys, options, false);
    if (r.results.length !== keys.length)
      throw new InternalError(`LookupMany answered ${r.results.length} results for ${keys.length} keys`);
    return r.results;
  }

  /**
   * The values of many keys and nothing else, in order: undefined for a miss
   * (or an expired or degraded answer). The lean LookupMany (values_only)
   * for a caller ranking candidates: about a third of the bytes of
   * `lookupMany`, with no result metadata to decode. Counts, refresh marks
   * and the query log work as for `lookupMany`.
   */
  async lookupValues(
    keys: readonly KeyInput[],
    options: Omit<LookupOptions, "features" | "onMiss"> & { onMiss?: "none" | "enqueue" } = {},
  ): Promise<(DecodedValue | undefined)[]> {
    const r = await this.#lookupMany(keys, options, true);
    if (r.values.length !== keys.length)
      throw new InternalError(`LookupMany answered ${r.values.length} values for ${keys.length} keys`);
    return r.values;
  }

  /**
   * One LookupMany call, in full or values only; in the compact form when
   * the keys allow it (lookup-many-keys.ts). A cache from before that form
   * ignores its fields and answers no keys at all, which a current one never
   * does for a non-empty batch: the call is then sent again with the keys,
   * and this client stops using the form.
   */
  #lookupMany(
    keys: readonly KeyInput[],
    options: Omit<LookupOptions, "features" | "onMiss"> & { onMiss?: "none" | "enqueue" },
    valuesOnly: false,
  ): Promise<LookupResultsAnswer>;
  #lookupMany(
    keys: readonly KeyInput[],
    options: Omit<LookupOptions, "features" | "onMiss"> & { onMiss?: "none" | "enqueue" },
    valuesOnly: true,
  ): Promise<LookupValuesAnswer>;
  async #lookupMany(
    keys: readonly KeyInput[],
    options: Omit<LookupOptions, "features" | "onMiss"> & { onMiss?: "none" | "enqueue" },
    valuesOnly: boolean,
  ): Promise<LookupResultsAnswer | LookupValuesAnswer> {
    checkCount(keys.length, clientLimits.maxKeysPerCall, "keys");
    const proto = keys.map((k) => toWireKey(k).proto);
    // Decoded from the wire straight into what the caller gets (values-decoder.ts, results-decoder.ts).
    const method = valuesOnly ? this.#lookupValuesMethod : this.#lookupResultsMethod;
    const send = (form: LookupManyKeys) =>
      this.#call("LookupMany", options, (settings) =>
        callUnary<cacheV1.LookupManyRequest, LookupResultsAnswer | LookupValuesAnswer>(
          method,
          {
            ...form,
            onMiss: onMissOf[options.onMiss ?? "none"],
            userId: options.userId ?? "",
            rejectStale: options.rejectStale ?? false,
            peek: false,
            ...(valuesOnly ? { valuesOnly: true } : {}),
          },
          settings,
        ),
      );
    const answered = (r: LookupResultsAnswer | LookupValuesAnswer): number =>
      isResults(r) ? r.values + r.results.length : r.values.length + r.results;
    const form = lookupManyKeys(proto, this.#compactLookupMany);
    const r = await send(form);
    if (form.keys.length === 0 && keys.length > 0 && answered(r) === 0) {
      this.#compactLookupMany = false;
      return send(lookupManyKeys(proto, false));
    }
    return r;
  }

  /** LookupMany with its answer read by `decode` instead of the generated decoder. */
  #lookupManyDecodedBy<T>(decode: (bytes: Buffer) => T) {
    return (
      request: cacheV1.LookupManyRequest,
      metadata: Metadata,
      options: Partial<GrpcCallOptions>,
      callback: (error: ServiceError | null, response: T) => void,
    ): ClientUnaryCall => {
      const m = cacheV1.CacheServiceService.lookupMany;
      return this.#cache.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        decode,
        request,
        metadata,
        options,
        (error, response) => callback(error, response as T),
      );
    };
  }

  readonly #lookupValuesMethod = this.#lookupManyDecodedBy(decodeLookupValues);
  readonly #lookupResultsMethod = this.#lookupManyDecodedBy(decodeLookupResults);

  /**
   * Cache-aside: the cached value on a hit (fresh or stale), else `compute`'s,
   * which is put before it is returned. Concurrent calls for one key in this
   * process share one lookup and one compute. A failed put does not fail the
   * call: the caller still gets the value it computed.
   */
  async getOrCompute<T>(
    key: KeyInput,
    compute: (key: string) => Promise<T>,
    options: PutOptions & { userId?: string } = {},
  ): Promise<{ value: T | DecodedValue; outcome: LookupOutcome | "computed" }> {
    const k = toWireKey(key);
    return this.#flights.run(k.key, async () => {
      const found = await this.lookup(key, { ...options, onMiss: "none" });
      if (found.outcome !== "miss" && found.value !== undefined)
        return { value: found.value, outcome: found.outcome };
      const value = await compute(k.key);
      await this.put(key, value, options).catch(() => undefined);
      return { value, outcome: "computed" as const };
    }) as Promise<{ value: T | DecodedValue; outcome: LookupOutcome | "computed" }>;
  }

  /** Stores a value: a Value from jsonValue/tensorValue, or anything JSON holds. Answers its key and expiry. */
  async put(
    key: KeyInput,
    value: unknown,
    options: PutOptions = {},
  ): Promise<{ key: string; expiresAt: Date | undefined }> {
    const entry = putEntry({ key, value, ...options });
    const r = await this.#call("Put", options, (settings) =>
      callUnary(this.#cache.put.bind(this.#cache), { entry }, settings),
    );
    return { key: r.key, expiresAt: r.expiresAt };
  }

  async putMany(entries: readonly PutEntry[], options: CallOptions = {}): Promise<string[]> {
    checkCount(entries.length, clientLimits.maxKeysPerCall, "entries");
    const proto = entries.map(putEntry);
    const r = await this.#call("PutMany", options, (settings) =>
      callUnary(this.#cache.putMany.bind(this.#cache), { entries: proto }, settings),
    );
    return r.keys;
  }

  /** Removes results; answers how many. */
  async invalidate(selector: InvalidateSelector, options: CallOptions = {}): Promise<number> {
    const request: cacheV1.InvalidateRequest =
      "key" in selector
        ? (() => {
            const k = toWireKey(selector.key);
            return { tenant: k.proto.tenant, key: k.proto };
          })()
        : "taskType" in selector
          ? { tenant: selector.tenant ?? "", taskType: selector.taskType }
          : selector;
    const r = await this.#call("Invalidate", options, (settings) =>
      callUnary(this.#cache.invalidate.bind(this.#cache), request, settings),
    );
    return Number(r.removed);
  }

  async trigger(event: TriggerEvent, options: CallOptions = {}): Promise<TriggerResult> {
    const proto = eventToProto(event);
    const r = await this.#call("Trigger", options, (settings) =>
      callUnary(this.#precomputer.trigger.bind(this.#precomputer), { event: proto }, settings),
    );
    return triggerResult(r);
  }

  async triggerMany(events: readonly TriggerEvent[], options: CallOptions = {}): Promise<TriggerResult[]> {
    checkCount(events.length, clientLimits.maxEventsPerCall, "events");
    const proto = events.map(eventToProto);
    const r = await this.#call("TriggerMany", options, (settings) =>
      callUnary(this.#precomputer.triggerMany.bind(this.#precomputer), { events: proto }, settings),
    );
    return r.results.map(triggerResult);
  }

  /** Queues one task for the executor; answers its id and whether an equal task was already queued. */
  async enqueue(
    key: KeyInput,
    options: EnqueueOptions = {},
  ): Promise<{ taskId: string; deduplicated: boolean }> {
    const task: executorV1.TaskSpec = {
      key: toWireKey(key).proto,
      priority: options.priority ?? 0,
      reason: reasonToProto(options.reason ?? "manual"),
      features: options.features ? featuresToProto(validateFeatures(options.features, "features")) : {},
      ...(options.notBefore !== undefined ? { notBefore: options.notBefore } : {}),
    };
    const r = await this.#call("Enqueue", options, (settings) =>
      callUnary(this.#executor.enqueue.bind(this.#executor), { task }, settings),
    );
    return { taskId: r.taskId, deduplicated: r.deduplicated };
  }

  /** Open Inference Protocol ModelInfer: named input tensors in, named output tensors out. */
  async infer(
    model: string,
    inputs: Record<string, TensorInput>,
    options: CallOptions & { version?: string; outputs?: string[]; id?: string } = {},
  ): Promise<InferResult> {
    const request = inferRequest(model, inputs, options);
    const r = await this.#call("ModelInfer", options, (settings) =>
      callUnary(this.#predictor.modelInfer.bind(this.#predictor), request, settings),
    );
    return inferResult(r);
  }

  /** Closes the channels; calls after this fail. */
  close(): void {
    this.#transport.close();
  }

  async #call<T>(
    method: string,
    options: CallOptions,
    work: (settings: Parameters<typeof callUnary>[2] & object) => Promise<T>,
  ): Promise<T> {
    const settings = {
      timeoutMs: options.deadlineMs ?? this.#transport.options.deadlineMs,
      metadata: this.#transport.metadata(),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    };
    try {
      return await work(settings);
    } catch (e) {
      throw clientError(e, method);
    }
  }
}

/** A client with `options` over the defaults (see ClientOptions). */
export function createClient(options: Partial<ClientOptions> = {}): PrescientClient {
  return new PrescientClient(options);
}

function isResults(r: LookupResultsAnswer | LookupValuesAnswer): r is LookupResultsAnswer {
  return typeof r.values === "number";
}

/** A generated LookupResponse as a LookupResult (what results-decoder.ts reads from the wire alike). */
export function lookupResult(r: cacheV1.LookupResponse): LookupResult {
  const outcome = outcomeOfLookup(r);
  const stored = outcome !== "miss" || r.computed ? r.result : undefined;
  return {
    key: r.key,
    outcome,
    value: decodeValue(stored?.value),
    computedAt: stored?.computedAt,
    expiresAt: stored?.expiresAt,
    computed: r.computed,
    taskId: r.taskId === "" ? undefined : r.taskId,
    raw: stored,
  };
}

function putEntry(e: PutEntry): cacheV1.PutEntry {
  if (e.ttlSeconds !== undefined && !(Number.isFinite(e.ttlSeconds) && e.ttlSeconds > 0))
    throw new InvalidArgumentError("ttlSeconds must be a positive number");
  return {
    key: toWireKey(e.key).proto,
    value: toValue(e.value),
    modelName: e.modelName ?? "",
    modelVersion: e.modelVersion ?? "",
    computeMs: e.computeMs ?? 0,
    inputDigest: "",
    tags: e.tags ?? [],
    ...(e.ttlSeconds !== undefined ? { ttlSeconds: e.ttlSeconds } : {}),
  };
}

function eventToProto(e: TriggerEvent): precomputerV1.Event {
  return {
    type: e.type,
    tenant: e.tenant,
    entityId: e.entityId ?? "",
    userId: e.userId ?? "",
    features: e.features ? featuresToProto(validateFeatures(e.features, "event.features")) : {},
    attributes: e.attributes ?? {},
    relatedEntityIds: e.relatedEntityIds ?? [],
    ...(e.time !== undefined ? { time: e.time } : {}),
  };
}

function triggerResult(r: precomputerV1.TriggerResponse): TriggerResult {
  return {
    queued: Object.fromEntries(r.queued.map((q) => [q.taskType, q.taskIds])),
    skippedFresh: r.skippedFresh,
  };
}

function checkCount(n: number, limit: number, what: string): void {
  if (n > limit) throw new InvalidArgumentError(`${n} ${what} in one call; the limit is ${limit}`);
}
