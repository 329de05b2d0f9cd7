import { errorMessage } from "@prescient/core";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

/** Redis's channel for invalidations sent to a redirect client (RESP2). */
const invalidateChannel = "__redis__:invalidate";

/**
 * After a failed arming pass on connections that stay up, the next try
 * waits this long, doubling per failure up to `maxRetryMs`. Without it a
 * command refused once (a node busy in a failover, a permission not yet
 * granted) would leave the near cache off until some reconnect.
 */
const firstRetryMs = 100;
const maxRetryMs = 2000;

/** What a link tells the near cache. */
export interface TrackingListener {
  /** Redis named keys that changed (written, deleted, evicted, expired). */
  invalidated(physicalKey: string): void;
  /** Everything may have changed: a flush, a tracking table overflow, or a lost connection. */
  flushed(): void;
  /** The link was armed or disarmed; a disarm is preceded by `flushed`. */
  changed(): void;
}

/**
 * Server-assisted client-side caching on one connection: CLIENT TRACKING
 * with REDIRECT to a subscriber connection to the same server, opened here.
 * Redis remembers each key the tracked connection read, and names it on
 * the subscriber when it changes. Armed only once tracking is confirmed on
 * the tracked connection as it is now; losing either connection disarms it
 * (and flushes: invalidations may have been missed) until both are back.
 * A pass that fails on connections that stay up is tried again, backing off.
 */
export class TrackingLink {
  readonly #tracked: Redis;
  readonly #subscriber: Redis;
  readonly #listener: TrackingListener;
  readonly #logger: Logger | undefined;
  #armed = false;
  #subscriberId: number | undefined;
  #closed = false;
  /** Bumped by every disconnect, so an arming pass it overtook gives up. */
  #generation = 0;
  #arming = false;
  #armAgain = false;
  /** Failed passes in a row, for the retry's back-off and for warning once per streak. */
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  readonly #onTrackedReady = (): void => this.#arm();
  readonly #onTrackedClose = (): void => this.#disarm();

  constructor(tracked: Redis, listener: TrackingListener, logger: Logger | undefined) {
    this.#tracked = tracked;
    this.#listener = listener;
    this.#logger = logger;
    // RESP2 on purpose: Redis then sends invalidations as pub/sub messages, which
    // ioredis delivers; RESP3 "invalidate" pushes it drops.
    this.#subscriber = tracked.duplicate({
      protocol: 2,
      connectionName: "prescient-cache-invalidate",
      lazyConnect: false,
      autoResubscribe: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      // Always reconnect: a cluster node's own connection never does (ioredis drops the node and
      // finds it again), and a subscriber that stayed down would keep the near cache off for good.
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    });
    this.#subscriber.on("error", () => {}); // the tracked connection's owner logs Redis's errors
    this.#subscriber.on("messageBuffer", (channel: Buffer, message: unknown) => {
      if (channel.toString() !== invalidateChannel) return;
      if (Array.isArray(message)) for (const key of message) listener.invalidated(String(key));
      else listener.flushed(); // null: FLUSHALL/FLUSHDB, or tracking table overflow
    });
    this.#subscriber.on("ready", () => this.#arm());
    this.#subscriber.on("close", () => {
      this.#subscriberId = undefined; // a new connection has a new id, and must subscribe again
      this.#disarm();
    });
    tracked.on("ready", this.#onTrackedReady);
    tracked.on("close", this.#onTrackedClose);
    this.#arm();
  }

  get armed(): boolean {
    return this.#armed;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#tracked.off("ready", this.#onTrackedReady);
    this.#tracked.off("close", this.#onTrackedClose);
    this.#disarm();
    this.#subscriber.disconnect();
  }

  #disarm(): void {
    this.#generation++;
    const was = this.#armed;
    this.#armed = false;
    this.#listener.flushed();
    if (was) this.#listener.changed();
  }

  /**
   * Subscribes (once per subscriber connection) and turns tracking on, on the
   * tracked connection as it is now. Runs again when a connection became
   * ready meanwhile; gives up on a pass that a disconnect overtook.
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
        // A cluster's node connects on its first command: this one may be it.
        const status = this.#tracked.status;
        if (this.#armed || !(status === "ready" || status === "wait")) return;
        // OFF first: tracking may still point at a subscriber connection that is gone.
        await this.#tracked.call("CLIENT", "TRACKING", "OFF");
        // OPTOUT: every read is tracked, as by default, except one right after CLIENT CACHING no (a peek).
        await this.#tracked.call(
          "CLIENT",
          "TRACKING",
          "ON",
          "REDIRECT",
          String(this.#subscriberId),
          "OPTOUT",
        );
        if (!current()) return;
        this.#listener.flushed();
        this.#armed = true;
        this.#failures = 0;
        this.#listener.changed();
      } catch (err) {
        if (current()) this.#retryLater(err);
      } finally {
        this.#arming = false;
        if (this.#armAgain) {
          this.#armAgain = false;
          this.#arm();
        }
      }
    })();
  }

  /** Another pass after a back-off; a disconnect meanwhile re-arms on its own when the connection is back. */
  #retryLater(err: unknown): void {
    const delay = Math.min(firstRetryMs * 2 ** this.#failures, maxRetryMs);
    if (this.#failures === 0)
      this.#logger?.warn(
        { err: errorMessage(err), retryMs: delay },
        "near cache off until client tracking is on: it failed, and is retried",
      );
    this.#failures++;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#arm();
    }, delay);
    this.#retry.unref();
  }
}
