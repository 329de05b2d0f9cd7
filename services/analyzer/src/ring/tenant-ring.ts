import { fnv1aMixed } from "@prescient/kit";

/**
 * Which analyzer replica owns which tenant: rendezvous (highest random
 * weight) hashing over the live members' addresses. Every replica that sees
 * the same members computes the same owner, and a member joining or leaving
 * moves only the tenants it gains or held, about 1/N of them, so the
 * in-process state of the rest (sequences, streams, readahead, relations,
 * learned rules) stays where it was built.
 *
 * Tenant, not user, is the unit: the fan-out learner credits an event with
 * reads of the same entity by any user, and per-type continuation shares and
 * rule support pool every user of the tenant, so only whole tenants keep
 * one replica's answers equal to a single analyzer's.
 */
export class TenantRing {
  readonly self: string;
  #members: readonly string[];

  /** `self`: this replica's advertised address, a member whatever the view says. */
  constructor(self: string) {
    if (self === "") throw new RangeError("a ring member needs an address");
    this.self = self;
    this.#members = [self];
  }

  /** Live members, sorted; always holds self. */
  get members(): readonly string[] {
    return this.#members;
  }

  /** The other live members. */
  get peers(): string[] {
    return this.#members.filter((m) => m !== this.self);
  }

  get solo(): boolean {
    return this.#members.length === 1;
  }

  /** Replaces the view of live members; returns whether it changed. */
  update(members: Iterable<string>): boolean {
    const next = [...new Set([...members, this.self])].sort();
    const same = next.length === this.#members.length && next.every((m, i) => m === this.#members[i]);
    if (!same) this.#members = next;
    return !same;
  }

  ownerOf(tenant: string): string {
    if (this.#members.length === 1) return this.self;
    let best = this.#members[0]!;
    let bestWeight = -1;
    for (const m of this.#members) {
      const w = weight(m, tenant);
      if (w > bestWeight || (w === bestWeight && m < best)) {
        best = m;
        bestWeight = w;
      }
    }
    return best;
  }

  owns(tenant: string): boolean {
    return this.ownerOf(tenant) === this.self;
  }

  /**
   * Splits items by the owner of their tenant, keeping each item's index in
   * the input so answers can name input positions. The map's order is the
   * order owners first appear.
   */
  partition<T>(items: readonly T[], tenantOf: (item: T) => string): Map<string, Part<T>> {
    const parts = new Map<string, Part<T>>();
    const owners = new Map<string, string>();
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const tenant = tenantOf(item);
      let owner = owners.get(tenant);
      if (owner === undefined) {
        owner = this.ownerOf(tenant);
        owners.set(tenant, owner);
      }
      let part = parts.get(owner);
      if (part === undefined) {
        part = { items: [], positions: [] };
        parts.set(owner, part);
      }
      part.items.push(item);
      part.positions.push(i);
    }
    return parts;
  }
}

export interface Part<T> {
  items: T[];
  /** Index in the partitioned input of each item. */
  positions: number[];
}

/** The member's weight for the tenant: mixed, since members differ only in a few characters (ports, IPs). */
const weight = (member: string, tenant: string): number => fnv1aMixed(`${member}\u0000${tenant}`);
