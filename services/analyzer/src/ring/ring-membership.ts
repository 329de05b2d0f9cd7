import { errorMessage } from "@prescient/core";
import { LuaCommand, type RedisClient } from "@prescient/kit";
import type { TenantRing } from "./tenant-ring.js";

const heartbeat = new LuaCommand(
  "prescientAnalyzerRingHeartbeat",
  new URL("ring-heartbeat.lua", import.meta.url),
  {
    numberOfKeys: 1,
  },
);

export interface RingMembershipOptions {
  /** How often a replica renews its membership and refreshes its view of the others. Default 1000 ms. */
  heartbeatMs: number;
  /**
   * A member not renewed for this long is dropped, and its tenants move to
   * the others. Default 5000 ms: a few missed beats, not one slow one.
   */
  ttlMs: number;
  /** Members answered at most (a bound on what each beat reads). Default 256. */
  maxMembers: number;
}

export const ringMembershipDefaults: Readonly<RingMembershipOptions> = {
  heartbeatMs: 1000,
  ttlMs: 5000,
  maxMembers: 256,
};

export interface RingMembershipHooks {
  /** The view changed: members now live, sorted. */
  onChange?: (members: readonly string[]) => void;
  /** A beat failed; the last view is kept until one succeeds. */
  onError?: (error: string) => void;
}

/**
 * Keeps one analyzer replica in the ring stored under `key` (a sorted set
 * of address → expiry) and its TenantRing's view of the live members fresh:
 * one script per beat renews this member, drops the expired and reads the
 * rest. A replica that stops beating (killed, partitioned) leaves the others'
 * view within `ttlMs`; one that shuts down leaves at once.
 */
export class RingMembership {
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly #ring: TenantRing;
  readonly #options: RingMembershipOptions;
  readonly #hooks: RingMembershipHooks;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #left = false;

  constructor(
    redis: RedisClient,
    key: string,
    ring: TenantRing,
    options?: Partial<RingMembershipOptions>,
    hooks: RingMembershipHooks = {},
  ) {
    const o = { ...ringMembershipDefaults, ...options };
    if (!(Number.isInteger(o.heartbeatMs) && o.heartbeatMs > 0 && o.ttlMs > o.heartbeatMs))
      throw new RangeError("the ring's ttlMs must exceed its heartbeatMs, both positive whole ms");
    this.#redis = redis;
    this.#key = key;
    this.#ring = ring;
    this.#options = o;
    this.#hooks = hooks;
  }

  /** Joins (throws if the store does not answer), then renews every heartbeat until `leave`. */
  async join(): Promise<void> {
    this.#left = false;
    await this.#beat("renew");
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#beating !== undefined) return;
      this.#beating = this.#beat("renew")
        .catch((e: unknown) => this.#hooks.onError?.(errorMessage(e)))
        .finally(() => {
          this.#beating = undefined;
        });
    }, this.#options.heartbeatMs);
    this.#timer.unref();
  }

  /** Stops renewing and leaves the ring, so the others take this replica's tenants at their next beat. */
  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#beating;
    try {
      await this.#beat("leave");
    } catch (e) {
      // Its membership expires on its own within ttlMs.
      this.#hooks.onError?.(errorMessage(e));
    }
    this.#ring.update([]);
  }

  async #beat(what: "renew" | "leave"): Promise<void> {
    const o = this.#options;
    const members = await heartbeat.run<string[]>(
      this.#redis,
      [this.#key],
      [this.#ring.self, o.ttlMs, what, o.maxMembers],
    );
    if (this.#left && what === "renew") return;
    if (this.#ring.update(what === "leave" ? [] : members)) this.#hooks.onChange?.(this.#ring.members);
  }
}
