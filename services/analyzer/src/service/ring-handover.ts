import { errorMessage } from "@prescient/core";
import type { Logger } from "pino";
import type { Analyzer } from "../analyzer.js";
import { TenantRing } from "../ring/tenant-ring.js";

/**
 * Moves learned state (rules, relations, next reads, successor chains) with
 * the tenants when the ring changes, through the store. A replica that
 * loses tenants saves their changes at once; one that gains tenants, a
 * moment later (`settleMs`: long enough for the others to have seen the
 * change at their heartbeat and saved), replaces what it holds for them by
 * what the store holds. Without it a replica learned a gained tenant on
 * top of the copy it restored when it started, and its saves then
 * overwrote everything the previous owner learned since.
 *
 * A replica joining owned nothing before its first view; one alone owns
 * every tenant and restored them all at start, so it has nothing to take.
 * Sequences, streams and readahead are not saved, and stay behind.
 */
export class RingHandover {
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Per takeover not yet done, the ownership before its change: the tenants it will take are not settled here. */
  readonly #pending = new Set<(tenant: string) => boolean>();
  #view: readonly string[] | undefined;
  #closed = false;

  constructor(
    private readonly analyzer: Pick<Analyzer, "saveLearning" | "adoptLearning">,
    private readonly ring: TenantRing,
    private readonly settleMs: number,
    private readonly logger: Logger,
  ) {}

  /** Joined: the view the replica serves from now, if no change was seen while joining. */
  joined(): void {
    this.#view ??= this.ring.members;
  }

  /** The ring's view changed to `members`. */
  changed(members: readonly string[]): void {
    if (this.#closed) return;
    const before = this.#view;
    this.#view = members;
    const owned = before === undefined ? () => false : ownership(this.ring.self, before);
    const owns = ownership(this.ring.self, members);
    this.#logged(
      this.analyzer.saveLearning((t) => owned(t) && !owns(t) && this.#settled(t)),
      "saved the learned state of tenants handed to other replicas",
      "learned state of tenants handed over not saved",
    );
    this.#pending.add(owned);
    this.#adoptLater(owned);
  }

  /**
   * Whether this replica may save the tenant's learned state: it owns it,
   * and is not still waiting to take it over (until then it holds a stale
   * copy, whose save would overwrite the previous owner's).
   */
  savable(tenant: string): boolean {
    return this.ring.owns(tenant) && this.#settled(tenant);
  }

  #settled(tenant: string): boolean {
    for (const before of this.#pending) if (!before(tenant)) return false;
    return true;
  }

  /** Takes over, after settleMs, the tenants owned now that `owned` did not; again later if the store fails. */
  #adoptLater(owned: (tenant: string) => boolean): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#closed) return;
      // Owned now, by the ring as it is then: a tenant gained and lost again meanwhile is left alone.
      this.analyzer
        .adoptLearning((t) => !owned(t) && this.ring.owns(t))
        .then(
          (n) => {
            this.#pending.delete(owned);
            if (n > 0)
              this.logger.info({ tenants: n }, "took over the learned state of tenants from other replicas");
          },
          (e: unknown) => {
            this.logger.error(
              { err: errorMessage(e) },
              "learned state of tenants taken over not read; retrying",
            );
            this.#adoptLater(owned);
          },
        );
    }, this.settleMs);
    timer.unref();
    this.#timers.add(timer);
  }

  /** Logs how many tenants a save moved, or why it failed (they stay owed: the next save retries). */
  #logged(moved: Promise<number>, done: string, failed: string): void {
    moved.then(
      (n) => {
        if (n > 0) this.logger.info({ tenants: n }, done);
      },
      (e: unknown) => this.logger.error({ err: errorMessage(e) }, failed),
    );
  }

  /** Stops acting on changes (the replica is leaving: its last view says it owns everything). */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    // #pending stays: the shutdown save must still leave out the tenants never taken over.
  }
}

function ownership(self: string, members: readonly string[]): (tenant: string) => boolean {
  const ring = new TenantRing(self);
  ring.update(members);
  return (tenant) => ring.owns(tenant);
}
