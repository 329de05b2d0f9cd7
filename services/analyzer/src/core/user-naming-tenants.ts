import { LRUCache } from "lru-cache";

/**
 * The tenants whose reads name their user. A tenant's backends either pass
 * the user on their lookups or they do not. Where they do, a read that names
 * no user is someone else's (a launch's audience, a public page), and
 * crediting it to the entity's creator would teach a login to warm what its
 * user never reads. Where they never do, the entity's creator is the best
 * guess of whose read it is. A tenant counts as naming users for `memoryMs`
 * after its last read that named one, so a backend that starts or stops
 * passing users is followed.
 */
export class UserNamingTenants {
  readonly #lastNamed: LRUCache<string, number>;
  readonly #memoryMs: number;
  /** The tenant last recorded, and when: reads come in runs of one tenant, and a map update per read is not free. */
  #lastTenant = "";
  #lastAt = Number.NEGATIVE_INFINITY;

  /** `capacity`: tenants kept (the least recently named go first). */
  constructor(capacity: number, memoryMs: number) {
    this.#lastNamed = new LRUCache({ max: capacity });
    this.#memoryMs = memoryMs;
  }

  /** A read of `tenant` named its user at `time`. */
  named(tenant: string, time: number): void {
    // Within a minute of the tenant's last record, nothing the answer depends on moves.
    if (tenant === this.#lastTenant && time >= this.#lastAt && time - this.#lastAt < 60_000) return;
    this.#lastTenant = tenant;
    this.#lastAt = time;
    this.#lastNamed.set(tenant, time);
  }

  /** Whether reads of `tenant` named their user within `memoryMs` of `time`. */
  namesUsers(tenant: string, time: number): boolean {
    const at = this.lastNamed(tenant);
    return at !== undefined && Math.abs(time - at) < this.#memoryMs;
  }

  /** When a read of `tenant` last named its user, as far as this process knows (for its snapshot). */
  lastNamed(tenant: string): number | undefined {
    return tenant === this.#lastTenant ? this.#lastAt : this.#lastNamed.peek(tenant);
  }

  /** A saved `lastNamed`: kept unless this process has seen a later one. */
  restore(tenant: string, at: number): void {
    const held = this.lastNamed(tenant);
    if (held === undefined || at > held) {
      this.#lastNamed.set(tenant, at);
      if (tenant === this.#lastTenant) this.#lastAt = at;
    }
  }

  /** Forgets these tenants (before their saved state replaces what is held). */
  drop(tenants: ReadonlySet<string>): void {
    for (const t of tenants) this.#lastNamed.delete(t);
    if (tenants.has(this.#lastTenant)) {
      this.#lastTenant = "";
      this.#lastAt = Number.NEGATIVE_INFINITY;
    }
  }
}
