import { arrivals, type CycleSpec } from "./arrivals.js";
import { event, type Row, read } from "./row.js";
import { ZipfSampler } from "./zipf.js";

/**
 * The building blocks of every workload: Zipf popularity with drift under
 * daily and weekly cycles; events followed by the reads they announce;
 * campaign launches; Markov user sessions; and repeated sequential scans.
 * Each appends rows; kinds.ts combines them.
 */
export interface Span {
  start: number;
  end: number;
  random: () => number;
}

const pick = <T>(xs: readonly T[], random: () => number): T => xs[Math.floor(random() * xs.length)]!;

export interface PopularitySpec {
  tenants: readonly string[];
  taskType: string;
  prefix: string;
  keys: number;
  exponent: number;
  /** Every `driftEveryMs`, `driftShare` of the ranks swap places (popularity drifts). */
  driftEveryMs: number;
  driftShare: number;
  cycle: CycleSpec;
}

export function popularity(rows: Row[], spec: PopularitySpec, { start, end, random }: Span): void {
  const zipf = new ZipfSampler(spec.keys, spec.exponent);
  const perm = Array.from({ length: spec.keys }, (_, i) => i);
  let nextDrift = start + spec.driftEveryMs;
  for (const t of arrivals(start, end, spec.cycle, random)) {
    while (spec.driftEveryMs > 0 && t >= nextDrift) {
      for (let k = 0; k < spec.keys * spec.driftShare; k++) {
        const i = Math.floor(random() * spec.keys);
        const j = Math.floor(random() * spec.keys);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      nextDrift += spec.driftEveryMs;
    }
    const id = perm[zipf.sample(random)]!;
    rows.push(read(t, spec.tenants[id % spec.tenants.length]!, spec.taskType, `${spec.prefix}${id}`));
  }
}

export interface EventReadSpec {
  tenants: readonly string[];
  event: string;
  prefix: string;
  types: readonly string[];
  /** Chance that each announced type is read. */
  readProbability: number;
  /** Delay of the first read, uniform in [min, max] ms. */
  delayMs: [number, number];
  /** Further reads of each result, at most, within the next `rereadWithinMs`. */
  rereads: number;
  rereadWithinMs: number;
  cycle: CycleSpec;
}

export function eventThenRead(rows: Row[], spec: EventReadSpec, { start, end, random }: Span): void {
  let n = 0;
  for (const t of arrivals(start, end, spec.cycle, random)) {
    const tenant = pick(spec.tenants, random);
    const entity = `${spec.prefix}${n++}`;
    rows.push(event(t, tenant, spec.event, entity));
    for (const type of spec.types) {
      if (random() >= spec.readProbability) continue;
      const first = t + spec.delayMs[0] + random() * (spec.delayMs[1] - spec.delayMs[0]);
      rows.push(read(first, tenant, type, entity));
      const k = Math.floor(random() * (spec.rereads + 1));
      for (let i = 0; i < k; i++)
        rows.push(read(first + random() * spec.rereadWithinMs, tenant, type, entity));
    }
  }
}

export interface LaunchSpec {
  tenants: readonly string[];
  prefix: string;
  types: readonly string[];
  /** Launch delay after it is scheduled, uniform in [min, max] ms. */
  leadMs: [number, number];
  /** Reads of each type after the launch, and over how long. */
  readsPerType: number;
  spreadMs: number;
  cycle: CycleSpec;
}

export function launches(rows: Row[], spec: LaunchSpec, { start, end, random }: Span): void {
  let n = 0;
  for (const t of arrivals(start, end, spec.cycle, random)) {
    const tenant = pick(spec.tenants, random);
    const entity = `${spec.prefix}${n++}`;
    const at = t + spec.leadMs[0] + random() * (spec.leadMs[1] - spec.leadMs[0]);
    rows.push(event(t, tenant, "campaign_launch_scheduled", entity, "", at));
    for (const type of spec.types)
      for (let i = 0; i < spec.readsPerType; i++)
        rows.push(read(at + (-Math.log(1 - random()) * spec.spreadMs) / 3, tenant, type, entity));
  }
}

export interface SessionSpec {
  tenants: readonly string[];
  users: number;
  /** The action process: state → [next state, probability][]; "end" ends the session. */
  transitions: Readonly<Record<string, ReadonlyArray<readonly [string, number]>>>;
  /** Task type of each action, and whether it is keyed by the user or by the user's campaign. */
  actions: Readonly<Record<string, { taskType: string; keyBy: "user" | "campaign" }>>;
  first: string;
  thinkMs: number;
  /** Login event name, fired at each session start. */
  login: string;
  cycle: CycleSpec;
}

export function sessions(rows: Row[], spec: SessionSpec, { start, end, random }: Span): void {
  // A user runs one session at a time: a login during one is dropped.
  const busyUntil = new Float64Array(spec.users);
  for (const t0 of arrivals(start, end, spec.cycle, random)) {
    const u = Math.floor(random() * spec.users);
    if (busyUntil[u]! > t0) continue;
    const user = `user${u}`;
    const tenant = spec.tenants[u % spec.tenants.length]!;
    // The login is about the user's campaign, as the configured user_login rule keys it.
    rows.push(event(t0, tenant, spec.login, `campaign-of-${user}`, user));
    let t = t0;
    let state = spec.first;
    for (let step = 0; step < 50 && state !== "end"; step++) {
      t += 1000 + -Math.log(1 - random()) * spec.thinkMs;
      const a = spec.actions[state]!;
      rows.push(read(t, tenant, a.taskType, a.keyBy === "user" ? user : `campaign-of-${user}`, user));
      let x = random();
      let next = "end";
      for (const [to, p] of spec.transitions[state] ?? []) {
        if (x < p) {
          next = to;
          break;
        }
        x -= p;
      }
      state = next;
    }
    busyUntil[u] = t + 1;
  }
}

export interface ScanSpec {
  tenant: string;
  taskType: string;
  prefix: string;
  /** Items read in one fixed order each pass. */
  items: number;
  /** One pass every `everyMs`, lasting `passMs`. */
  everyMs: number;
  passMs: number;
}

/** Repeated sequential passes (training epochs, table scans): strong next-key structure. */
export function scans(rows: Row[], spec: ScanSpec, { start, end, random }: Span): void {
  const order = Array.from({ length: spec.items }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (let t = start; t + spec.passMs < end; t += spec.everyMs)
    order.forEach((id, k) => {
      rows.push(
        read(
          t + (k * spec.passMs) / spec.items,
          spec.tenant,
          spec.taskType,
          `${spec.prefix}${id}`,
          "trainer",
        ),
      );
    });
}
