import { errorMessage } from "@prescient/core";
import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import { EncodedResult } from "./encoded-result.js";

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

/** Redis's channel for invalidations sent to a redirect client (RESP2). */
const invalidateChannel = "__redis__:invalidate";

/** Per key overhead counted against maxBytes besides the value: the key, the map slot. */
const entryOverheadBytes = 64;

/**
 * Values read from Redis kept in the process, told apart from stale ones by
 * Redis itself: server-assisted client-side caching (CLIENT TRACKING with
 * REDIRECT). Redis remembers each key the store's connection read, and when
 * any client writes, deletes, evicts or expires one, sends its name to this
 * class's subscriber connection, which drops it. A hit then costs no round
 * trip, across any number of cache replicas writing the same Redis.
 *
 * Until both connections are up and tracking is confirmed on the store's
 * current connection, nothing is kept or served; losing either connection
 * empties it, since invalidations may have been missed. A read in flight
 * when its key is invalidated is not kept, as Redis's guide for client-side
 * caching asks.
 */
export class RedisNearCache {
  readonly options: NearCacheOptions;
  readonly #client: Redis;
  readonly #subscriber: Redis;
  readonly #values: LRUCache<string, EncodedResult>;
  /** Reads in flight, per physical key, and which of those keys were invalidated meanwhile. */
  readonly #pending = new Map<string, number>();
  readonly #dirty = new Set<string>();
  /** Counts clears; a read that began before the last one keeps nothing. */
  #seq = 0;
  #clearedAt = 0;
  #armed = false;
  #subscriberId: number | undefined;
  #closed = false;
  /** Bumped by every disconnect, so an arming pass it overtook gives up. */
  #generation = 0;
  #arming = false;
  #armAgain = false;

  constructor(client: Redis, options?: Partial<NearCacheOptions>) {
    this.options = { ...nearCacheDefaults, onHits: () => {}, logger: undefined, now: Date.now, ...options };
    this.#client = client;
    this.#values = new LRUCache<string, EncodedResult>({
      max: this.options.maxEntries,
      maxSize: this.options.maxBytes,
      sizeCalculation: (v, k) => v.encoded.byteLength + k.length + entryOverheadBytes,
      ttl: this.options.maxAgeMs,
      ttlAutopurge: false,
    });
    // RESP2 on purpose: Redis then sends invalidations as pub/sub messages, which
    // ioredis delivers; RESP3 "invalidate" pushes it drops.
    this.#subscriber = client.duplicate({
      protocol: 2,
      connectionName: "prescient-cache-invalidate",
      lazyConnect: false,
      autoResubscribe: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    this.#subscriber.on("error", () => {}); // the store's client already logs Redis's errors
    this.#subscriber.on("messageBuffer", (channel: Buffer, message: unknown) => {
      if (channel.toString() !== invalidateChannel) return;
      if (Array.isArray(message)) for (const key of message) this.invalidate(String(key));
      else this.clear(); // null: FLUSHALL/FLUSHDB, or tracking table overflow
    });
    this.#subscriber.on("ready", () => this.#arm());
    this.#subscriber.on("close", () => {
      this.#subscriberId = undefined; // a new connection has a new id, and must subscribe again
      this.#disarm();
    });
    client.on("ready", () => this.#arm());
    client.on("close", () => this.#disarm());
    if (client.status === "ready") this.#arm();
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
    return this.#seq;
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
    const results = values.map((v) => (v === null || v === undefined ? undefined : new EncodedResult(v)));
    if (ticket === undefined) return results;
    const keep = this.#armed && ticket >= this.#clearedAt;
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
    this.#clearedAt = ++this.#seq;
    this.#values.clear();
  }

  close(): void {
    this.#closed = true;
    this.#disarm();
    this.#subscriber.disconnect();
  }

  #disarm(): void {
    this.#generation++;
    this.#armed = false;
    this.clear();
  }

  /**
   * Subscribes (once per subscriber connection) and turns tracking on, on the
   * store's current connection. Runs again when a connection became ready
   * meanwhile; gives up on a pass that a disconnect overtook.
   */
  #arm(): void {
    if (this.#closed) return;
    if (this.#arming) {
      this.#armAgain = true;
      return;
    }
    const generation = this.#generation;
    const current = (): boolean => !this.#closed && generation === this.#generation;
    this.#arming = true;
    void (async () => {
      try {
        if (this.#subscriberId === undefined) {
          if (this.#subscriber.status !== "ready") return;
          const id = Number(await this.#subscriber.client("ID"));
          await this.#subscriber.subscribe(invalidateChannel);
          if (!current()) return;
          this.#subscriberId = id;
        }
        if (this.#client.status !== "ready" || this.#armed) return;
        // OFF first: tracking may still point at a subscriber connection that is gone.
        await this.#client.call("CLIENT", "TRACKING", "OFF");
        await this.#client.call("CLIENT", "TRACKING", "ON", "REDIRECT", String(this.#subscriberId));
        if (!current()) return;
        this.clear();
        this.#armed = true;
      } catch (err) {
        this.options.logger?.warn(
          { err: errorMessage(err) },
          "near cache off until Redis reconnects: client tracking failed",
        );
      } finally {
        this.#arming = false;
        if (this.#armAgain) {
          this.#armAgain = false;
          this.#arm();
        }
      }
    })();
  }
}
