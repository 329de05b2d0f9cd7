import { errorMessage, UnavailableError } from "@prescient/core";
import { connectRedis, type RedisClient, watchRedisErrors } from "@prescient/kit";
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

/**
 * The claim, in one script: the decision of decideClaim (run-store.ts) over
 * the window's record and its lease. The lease is a key SET NX PX with the
 * owner as its value, so it lapses on Redis's own clock when its owner dies
 * and stops renewing; a running record without a lease is taken over.
 * KEYS: run record, lease. ARGV: owner, leaseMs, now, maxAttempts, schedule, windowStart, key, retentionMs.
 */
const claimLua = `
local raw = redis.call('GET', KEYS[1])
local held = redis.call('EXISTS', KEYS[2]) == 1
local rec = nil
if raw then rec = cjson.decode(raw) end
local now = tonumber(ARGV[3])
if rec then
  if rec.status == 'succeeded' then return {0, 'succeeded', raw} end
  if rec.status == 'running' and held then return {0, 'running', raw} end
  if tonumber(rec.attempts) >= tonumber(ARGV[4]) then return {0, 'attempts_exhausted', raw} end
  if rec.status == 'failed' and rec.retryAt and now < tonumber(rec.retryAt) then return {0, 'retry_later', raw} end
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) == false then
  return {0, 'running', raw or ''}
end
local takeover = 0
local attempts = 1
local err = ''
if rec then
  attempts = tonumber(rec.attempts) + 1
  err = rec.error or ''
  if rec.status == 'running' then takeover = 1 end
end
local out = cjson.encode({key = ARGV[7], schedule = ARGV[5], windowStart = tonumber(ARGV[6]), status = 'running',
  owner = ARGV[1], startedAt = now, items = 0, error = err, attempts = attempts, note = ''})
redis.call('SET', KEYS[1], out, 'PX', ARGV[8])
return {1, takeover, out}
`;

/** KEYS: run record, lease. ARGV: owner, leaseMs. */
const renewLua = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec.status ~= 'running' or rec.owner ~= ARGV[1] then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** KEYS: run record, lease. ARGV: owner, outcome JSON. */
const finishLua = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec.status ~= 'running' or rec.owner ~= ARGV[1] then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
local outcome = cjson.decode(ARGV[2])
for k, v in pairs(outcome) do rec[k] = v end
redis.call('SET', KEYS[1], cjson.encode(rec), 'KEEPTTL')
redis.call('DEL', KEYS[2])
return 1
`;

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
    const reply = (await this.#call("claim", () =>
      this.#redis.eval(
        claimLua,
        2,
        this.#run(r.key),
        this.#lease(r.key),
        r.owner,
        r.leaseMs,
        r.now,
        r.maxAttempts,
        r.schedule,
        r.windowStart,
        r.key,
        Math.min(this.options.retentionMs, r.keepMs ?? Number.POSITIVE_INFINITY),
      ),
    )) as [number, number | string, string];
    const [claimed, detail, raw] = reply;
    if (claimed === 1) {
      const record = decode(raw);
      await this.#call("index", () =>
        this.#redis
          .multi()
          .zadd(this.#index(r.schedule), record.startedAt, r.key)
          .zremrangebyrank(this.#index(r.schedule), 0, -runHistoryLimit - 1)
          .zadd(this.#index(undefined), record.startedAt, r.key)
          .zremrangebyrank(this.#index(undefined), 0, -runHistoryLimit * 10 - 1)
          .exec(),
      );
      return { claimed: true, record, takeover: detail === 1 };
    }
    const why = String(detail) as Extract<ClaimOutcome, { claimed: false }>["why"];
    // A lease held with no record yet cannot happen through claim; report it as running.
    const record = raw ? decode(raw) : placeholder(r);
    return { claimed: false, why, record };
  }

  async renew(key: string, owner: string, leaseMs: number): Promise<boolean> {
    const n = await this.#call("renew", () =>
      this.#redis.eval(renewLua, 2, this.#run(key), this.#lease(key), owner, leaseMs),
    );
    return n === 1;
  }

  async finish(key: string, owner: string, outcome: RunFinish): Promise<boolean> {
    const n = await this.#call("finish", () =>
      this.#redis.eval(finishLua, 2, this.#run(key), this.#lease(key), owner, JSON.stringify(outcome)),
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
