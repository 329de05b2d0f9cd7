import { errorMessage, UnavailableError } from "@prescient/core";
import {
  connectRedis,
  defineLuaCommands,
  LuaCommand,
  type RedisClient,
  watchRedisErrors,
} from "@prescient/kit";
import {
  type ClaimOutcome,
  type ClaimRequest,
  type RunFinish,
  type RunRecord,
  type RunStore,
  runHistoryLimit,
} from "../core/run-store.js";

export interface RedisRunStoreOptions {
  /** Default prescient:precomputer: */
  keyPrefix: string;
  /** Run records expire this long after their claim. Default 30 days. */
  retentionMs: number;
}

const defaults: RedisRunStoreOptions = { keyPrefix: "prescient:precomputer:", retentionMs: 30 * 86_400_000 };

/** The run store's scripts (KEYS: run record, lease); what each takes is at the top of its file. */
const script = (name: string, file: string): LuaCommand =>
  new LuaCommand(name, new URL(`./${file}.lua`, import.meta.url), { numberOfKeys: 2 });
const claimRun = script("prescientRunClaim", "claim-run");
const renewLease = script("prescientRunRenew", "renew-lease");
const finishRun = script("prescientRunFinish", "finish-run");

/**
 * Schedule runs on Redis, shared by every precomputer replica. A run's
 * record and lease share a hash tag (one cluster slot) so the claim is one
 * atomic script; the history index per schedule is a sorted set by start.
 */
export class RedisRunStore implements RunStore {
  readonly name = "redis";
  readonly options: RedisRunStoreOptions;
  readonly #redis: RedisClient;
  readonly #owned: boolean;

  constructor(redis: RedisClient | string, options?: Partial<RedisRunStoreOptions>) {
    this.options = { ...defaults, ...options };
    this.#owned = typeof redis === "string";
    this.#redis =
      typeof redis === "string" ? connectRedis(redis, { connectionName: "prescient-precomputer" }) : redis;
    if (typeof redis === "string") watchRedisErrors(this.#redis, "precomputer-runs");
    defineLuaCommands(this.#redis, [claimRun, renewLease, finishRun]);
  }

  /** The connection, for health watching. */
  get client(): RedisClient {
    return this.#redis;
  }

  #run(key: string): string {
    return `${this.options.keyPrefix}run:{${key}}`;
  }

  #lease(key: string): string {
    return `${this.options.keyPrefix}lease:{${key}}`;
  }

  /** The history indexes share one hash tag: claim updates two of them in one MULTI, which a cluster runs only within a slot. */
  #index(schedule: string | undefined): string {
    return `${this.options.keyPrefix}runs:{runs-index}:${schedule ?? "*all"}`;
  }

  async ready(): Promise<void> {
    if (this.#owned && this.#redis.status === "wait") await this.#redis.connect();
    await this.#call("ping", () => this.#redis.ping());
  }

  async claim(r: ClaimRequest): Promise<ClaimOutcome> {
    const reply = await this.#call("claim", () =>
      claimRun.run<[number, number | string, string]>(
        this.#redis,
        [this.#run(r.key), this.#lease(r.key)],
        [
          r.owner,
          r.leaseMs,
          r.now,
          r.maxAttempts,
          r.schedule,
          r.windowStart,
          r.key,
          Math.min(this.options.retentionMs, r.keepMs ?? Number.POSITIVE_INFINITY),
        ],
      ),
    );
    const [claimed, detail, raw] = reply;
    if (claimed === 1) {
      const record = decode(raw);
      // The history index only lists runs; the script above made the run this owner's. Failing the claim
      // when the index cannot be written (its slot's master failing over while the run's own slot is
      // healthy) would leave the window claimed, its record "running", by a job that never runs: the run
      // goes on, missing from the list instead.
      await this.#redis
        .multi()
        .zadd(this.#index(r.schedule), record.startedAt, r.key)
        .zremrangebyrank(this.#index(r.schedule), 0, -runHistoryLimit - 1)
        .zadd(this.#index(undefined), record.startedAt, r.key)
        .zremrangebyrank(this.#index(undefined), 0, -runHistoryLimit * 10 - 1)
        .exec()
        .catch(() => undefined);
      return { claimed: true, record, takeover: detail === 1 };
    }
    const why = String(detail) as Extract<ClaimOutcome, { claimed: false }>["why"];
    // A lease held with no record yet cannot happen through claim; report it as running.
    const record = raw ? decode(raw) : placeholder(r);
    return { claimed: false, why, record };
  }

  async renew(key: string, owner: string, leaseMs: number): Promise<boolean> {
    const n = await this.#call("renew", () =>
      renewLease.run(this.#redis, [this.#run(key), this.#lease(key)], [owner, leaseMs]),
    );
    return n === 1;
  }

  async finish(key: string, owner: string, outcome: RunFinish): Promise<boolean> {
    const n = await this.#call("finish", () =>
      finishRun.run(this.#redis, [this.#run(key), this.#lease(key)], [owner, JSON.stringify(outcome)]),
    );
    return n === 1;
  }

  async get(key: string): Promise<RunRecord | undefined> {
    const raw = await this.#call("get", () => this.#redis.get(this.#run(key)));
    return raw === null ? undefined : decode(raw);
  }

  async list(filter: { schedule?: string; limit: number }): Promise<RunRecord[]> {
    const keys = await this.#call("list", () =>
      this.#redis.zrevrange(this.#index(filter.schedule), 0, filter.limit - 1),
    );
    if (keys.length === 0) return [];
    // One GET per record, all sent at once: the records live in different cluster slots, and a
    // cluster refuses a pipeline or MGET across slots. A record that expired meanwhile is left out.
    const replies = await this.#call("list", () =>
      Promise.all(keys.map((k) => this.#redis.get(this.#run(k)))),
    );
    const out: RunRecord[] = [];
    for (const raw of replies) if (typeof raw === "string") out.push(decode(raw));
    return out.sort((a, b) => b.startedAt - a.startedAt);
  }

  async close(): Promise<void> {
    if (this.#owned) this.#redis.disconnect();
  }

  async #call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      throw new UnavailableError(
        `schedule run store (redis) is unavailable during ${operation}: ${errorMessage(e)}`,
      );
    }
  }
}

function decode(raw: string): RunRecord {
  const r = JSON.parse(raw) as RunRecord & { retryAt?: number | null; finishedAt?: number | null };
  const { retryAt, finishedAt, ...rest } = r;
  return {
    ...rest,
    ...(typeof finishedAt === "number" ? { finishedAt } : {}),
    ...(typeof retryAt === "number" ? { retryAt } : {}),
  };
}

function placeholder(r: ClaimRequest): RunRecord {
  return {
    key: r.key,
    schedule: r.schedule,
    windowStart: r.windowStart,
    status: "running",
    owner: "",
    startedAt: r.now,
    items: 0,
    error: "",
    attempts: 0,
    note: "",
  };
}
