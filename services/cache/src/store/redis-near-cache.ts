import { type ChainableCommander, type Cluster, Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import { type EncodedResult, encodedResultOf } from "./encoded-result.js";
import { TrackingLink, type TrackingListener } from "./tracking-link.js";

export interface NearCacheOptions {
  /** Most entries held in the process; 0 turns the near cache off. Default 10,000. */
  maxEntries: number;
  /** Most value bytes held in the process. Default 32 MiB. */
  maxBytes: number;
  /**
   * Longest an entry is served without Redis, a bound in case an invalidation
   * is lost in a way no disconnect reveals. An entry also leaves at its
   * result's expires_at: a stale one is Redis's to answer, which forgets it at
   * its physical expiry. Default 5 min.
   */
  maxAgeMs: number;
  /** Wall-clock ms, for the time left to a result's expires_at. Default Date.now. */
  now: () => number;
  /** Told each time reads were answered from the process (the near-hits metric). Default: nothing. */
  onHits: (count: number) => void;
  logger: Logger | undefined;
}

export const nearCacheDefaults: Readonly<Omit<NearCacheOptions, "onHits" | "logger" | "now">> = {
  maxEntries: 10_000,
  maxBytes: 32 * 1024 * 1024,
  maxAgeMs: 5 * 60_000,
};

/** Per key overhead counted against maxBytes besides the value: the key, the map slot. */
const entryOverheadBytes = 64;

/**
 * Values read from Redis kept in the process, told apart from stale ones by
 * Redis itself: server-assisted client-side caching. Each connection reads
 * go through (the one of a single Redis, or every node's of a Cluster) is
 * tracked by a TrackingLink; when any client writes, deletes, evicts or
 * expires a key read through it, Redis names the key, and it is dropped. A
 * hit then costs no round trip, across any number of cache replicas
 * writing the same Redis.
 *
 * Nothing is kept or served unless every link is armed; a link lost, or a
 * cluster node come or gone, empties it, since invalidations may have been
 * missed. A read in flight when its key is invalidated is not kept, as
 * Redis's guide for client-side caching asks.
 */
export class RedisNearCache {
  readonly options: NearCacheOptions;
  readonly #values: LRUCache<string, EncodedResult>;
  readonly #links = new Map<Redis, TrackingLink>();
  /** Reads in flight, per physical key, and which of those keys were invalidated meanwhile. */
  readonly #pending = new Map<string, number>();
  readonly #dirty = new Set<string>();
  /** Counts clears; a read that began before the last one (another count as its ticket) keeps nothing. */
  #clears = 0;
  #armed = false;
  #closed = false;
  readonly #listener: TrackingListener = {
    invalidated: (key) => this.invalidate(key),
    flushed: () => this.clear(),
    changed: () => this.#recount(),
  };

  constructor(client: Redis | Cluster, options?: Partial<NearCacheOptions>) {
    this.options = { ...nearCacheDefaults, onHits: () => {}, logger: undefined, now: Date.now, ...options };
    this.#values = new LRUCache<string, EncodedResult>({
      max: this.options.maxEntries,
      maxSize: this.options.maxBytes,
      sizeCalculation: (v, k) => v.encoded.byteLength + k.length + entryOverheadBytes,
      ttl: this.options.maxAgeMs,
      ttlAutopurge: false,
    });
    if (client instanceof Redis) this.#link(client);
    else {
      // Every node's connection, replicas' too: a replica promoted keeps its connection and starts serving reads.
      for (const node of client.nodes("all")) this.#link(node);
      client.on("+node", (node: Redis) => this.#link(node));
      client.on("-node", (node: Redis) => this.#unlink(node));
    }
  }

  get armed(): boolean {
    return this.#armed;
  }

  get size(): number {
    return this.#values.size;
  }
  /** The result held for a physical key, if the near cache may answer for it. */
  get(physicalKey: string): EncodedResult | undefined {
    if (!this.#armed) return undefined;
    return this.#values.get(physicalKey);
  }

  /** Counts reads answered here, for the metric. */
  hits(count: number): void {
    if (count > 0) this.options.onHits(count);
  }

  /**
   * Marks reads of these keys as started; returns the ticket `end` needs.
   * Undefined while disarmed: such reads keep nothing.
   */
  begin(physicalKeys: readonly string[]): number | undefined {
    if (!this.#armed) return undefined;
    for (const k of physicalKeys) this.#pending.set(k, (this.#pending.get(k) ?? 0) + 1);
    return this.#clears;
  }

  /**
   * Ends reads begun with `begin`: turns Redis's answers into results, and
   * keeps each fresh one unless its key was invalidated meanwhile.
   */
  end(
    ticket: number | undefined,
    physicalKeys: readonly string[],
    values: readonly (Buffer | null | undefined)[],
  ): (EncodedResult | undefined)[] {
    const results = values.map(encodedResultOf);
    if (ticket === undefined) return results;
    const keep = this.#armed && ticket === this.#clears;
    const now = this.options.now();
    for (let i = 0; i < physicalKeys.length; i++) {
      const k = physicalKeys[i] as string;
      const left = (this.#pending.get(k) ?? 1) - 1;
      const dirty = this.#dirty.has(k);
      if (left <= 0) {
        this.#pending.delete(k);
        this.#dirty.delete(k);
      } else this.#pending.set(k, left);
      const r = results[i];
      if (!keep || dirty || r === undefined) continue;
      const life = Math.min(this.options.maxAgeMs, (r.expiresAtMs ?? 0) - now);
      if (life >= 1) this.#values.set(k, r, { ttl: life });
    }
    return results;
  }

  /**
   * A read that Redis does not track, for reads that keep nothing here (a
   * freshness peek, expiries): CLIENT CACHING no, which tracking's OPTOUT
   * mode (TrackingLink) honours for the very next command, goes with the
   * read in one pipeline, so no other command comes between them. Where
   * tracking is off (disarmed, or a connection not yet armed again), Redis
   * refuses CLIENT CACHING and the read is untracked anyway, so the refusal
   * is ignored. `read` queues exactly one command; its reply is answered.
   */
  async untracked<T>(client: Redis | Cluster, read: (pipeline: ChainableCommander) => void): Promise<T> {
    const pipeline = client.pipeline().call("CLIENT", "CACHING", "no");
    read(pipeline);
    const replies = await pipeline.exec();
    const [err, value] = replies?.[1] ?? [new Error("Redis answered no reply to the read"), null];
    if (err) throw err;
    return value as T;
  }

  /** An untracked MGET (see untracked). */
  untrackedMget(client: Redis | Cluster, physicalKeys: readonly string[]): Promise<(Buffer | null)[]> {
    return this.untracked(client, (p) => p.mgetBuffer(physicalKeys as string[]));
  }

  /** Ends reads that failed: nothing is kept. */
  abort(ticket: number | undefined, physicalKeys: readonly string[]): void {
    this.end(
      ticket,
      physicalKeys,
      physicalKeys.map(() => null),
    );
  }

  /** Drops one key: Redis said it changed, or this process just wrote it. */
  invalidate(physicalKey: string): void {
    this.#values.delete(physicalKey);
    if (this.#pending.has(physicalKey)) this.#dirty.add(physicalKey);
  }

  /** Drops everything, and keeps nothing from reads in flight. */
  clear(): void {
    this.#clears++;
    this.#values.clear();
  }

  close(): void {
    this.#closed = true;
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
    this.#recount();
  }

  #link(connection: Redis): void {
    if (this.#closed || this.#links.has(connection)) return;
    // Unarmed until tracking is on there: nothing is served meanwhile.
    this.#links.set(connection, new TrackingLink(connection, this.#listener, this.options.logger));
    this.clear();
    this.#recount();
  }

  #unlink(connection: Redis): void {
    const link = this.#links.get(connection);
    if (link === undefined) return;
    this.#links.delete(connection);
    link.close();
    // What was read through it is no longer tracked.
    this.clear();
    this.#recount();
  }

  #recount(): void {
    let armed = !this.#closed && this.#links.size > 0;
    for (const link of this.#links.values()) armed &&= link.armed;
    this.#armed = armed;
  }
}
