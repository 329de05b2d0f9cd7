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

/** Who an event is about, when a kind assigns it (by default: a random tenant, no user). */
export interface Target {
  tenant: string;
  entity: string;
  user: string;
}

/** The reads that follow one event: which types, how likely, how soon, how often again. */
export interface FanOutSpec {
  types: readonly string[];
  /** Chance that each announced type is read. */
  readProbability: number;
  /** Delay of the first read, uniform in [min, max] ms. */
  delayMs: [number, number];
  /** Further reads of each result, at most, within the next `rereadWithinMs`. */
  rereads: number;
  rereadWithinMs: number;
}

/** What a workload announces of a fan-out, for validate.ts to check. */
export interface EventReads {
  types: readonly string[];
  probability: number;
  /** Only reads without a user, this long after the event, count (other reads may share its entity). */
  delayMs?: readonly [number, number];
}

export interface EventReadSpec extends FanOutSpec {
  tenants: readonly string[];
  event: string;
  prefix: string;
  cycle: CycleSpec;
  /** The tenant, entity and user of the n-th event (random-adplatform: the uploader). */
  target?: (n: number) => Target;
}

export function eventThenRead(rows: Row[], spec: EventReadSpec, { start, end, random }: Span): void {
  let n = 0;
  for (const t of arrivals(start, end, spec.cycle, random)) {
    const n0 = n++;
    const to = spec.target?.(n0) ?? {
      tenant: pick(spec.tenants, random),
      entity: `${spec.prefix}${n0}`,
      user: "",
    };
    rows.push(event(t, to.tenant, spec.event, to.entity, to.user));
    fanOut(rows, spec, t, to.tenant, to.entity, random);
  }
}

/**
 * The reads of what one event announced. They carry no user: they are the
 * results being consumed, not a step of anyone's session, so that the session
 * statistics stay the Markov process's alone.
 */
export function fanOut(
  rows: Row[],
  spec: FanOutSpec,
  t: number,
  tenant: string,
  entity: string,
  random: () => number,
): void {
  for (const type of spec.types) {
    if (random() >= spec.readProbability) continue;
    const first = t + spec.delayMs[0] + random() * (spec.delayMs[1] - spec.delayMs[0]);
    rows.push(read(first, tenant, type, entity));
    const k = Math.floor(random() * (spec.rereads + 1));
    for (let i = 0; i < k; i++) rows.push(read(first + random() * spec.rereadWithinMs, tenant, type, entity));
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
  /** The launched entity at time t, or undefined to skip it (by default: a new `prefix` id). */
  target?: (t: number) => Target | undefined;
}

export function launches(rows: Row[], spec: LaunchSpec, { start, end, random }: Span): void {
  let n = 0;
  for (const t of arrivals(start, end, spec.cycle, random)) {
    const to = spec.target
      ? spec.target(t)
      : { tenant: pick(spec.tenants, random), entity: `${spec.prefix}${n++}`, user: "" };
    if (to === undefined) continue;
    const { tenant, entity } = to;
    const at = t + spec.leadMs[0] + random() * (spec.leadMs[1] - spec.leadMs[0]);
    rows.push(event(t, tenant, "campaign_launch_scheduled", entity, to.user, at));
    for (const type of spec.types)
      for (let i = 0; i < spec.readsPerType; i++)
        rows.push(read(at + (-Math.log(1 - random()) * spec.spreadMs) / 3, tenant, type, entity));
  }
}

export type KeyBy = "user" | "campaign" | "ad";

export interface SessionSpec {
  tenants: readonly string[];
  users: number;
  /** Skew of session starts among users (rank r ∝ r^−s); absent: uniform. */
  userExponent?: number;
  /** The action process: state → [next state, probability][]; "end" ends the session. */
  transitions: Readonly<Record<string, ReadonlyArray<readonly [string, number]>>>;
  /** Task type of each action, what it is keyed by, and its own mean think time if it has one. */
  actions: Readonly<Record<string, { taskType: string; keyBy: KeyBy; thinkMs?: number }>>;
  first: string;
  thinkMs: number;
  /** Login event name, fired at each session start. */
  login: string;
  cycle: CycleSpec;
}

/**
 * The fixed ad-platform session process of the sessions, web, gaming and
 * adplatform kinds: one campaign per user, named after the user, so that the
 * configured user_login rule (which keys campaign_analytics by the login's
 * entity) can be measured against it.
 */
export const adSessions: SessionSpec = {
  tenants: ["acme", "globex", "initech"],
  users: 600,
  first: "dashboard",
  thinkMs: 30_000,
  login: "user_login",
  cycle: { perSecond: 0.02, amplitude: 0.6, peakHour: 14, weekend: 1 },
  actions: {
    dashboard: { taskType: "dashboard_data", keyBy: "user" },
    analytics: { taskType: "campaign_analytics", keyBy: "campaign" },
    roas: { taskType: "roas_prediction", keyBy: "campaign" },
  },
  transitions: {
    dashboard: [
      ["analytics", 0.6],
      ["roas", 0.2],
      ["end", 0.2],
    ],
    analytics: [
      ["roas", 0.5],
      ["dashboard", 0.3],
      ["end", 0.2],
    ],
    roas: [
      ["dashboard", 0.4],
      ["analytics", 0.2],
      ["end", 0.4],
    ],
  },
};

/** How a kind ties sessions to its own entities; absent, the user's one `campaign-of-` id. */
export interface SessionHooks {
  /** Entity of the login event. */
  loginEntity: (user: string) => string;
  /** Runs right after the login (e.g. creates the user's campaigns); returns when the first action starts. */
  afterLogin: (u: number, tenant: string, t: number) => number;
  /** Entity of an action not keyed by the user. */
  entity: (u: number, keyBy: KeyBy, t: number) => string;
}

export function sessions(
  rows: Row[],
  spec: SessionSpec,
  { start, end, random }: Span,
  hooks?: SessionHooks,
): void {
  // A user runs one session at a time: a login during one is dropped.
  const busyUntil = new Float64Array(spec.users);
  const zipf = spec.userExponent === undefined ? undefined : new ZipfSampler(spec.users, spec.userExponent);
  for (const t0 of arrivals(start, end, spec.cycle, random)) {
    const u = zipf ? zipf.sample(random) : Math.floor(random() * spec.users);
    if (busyUntil[u]! > t0) continue;
    const user = `user${u}`;
    const tenant = spec.tenants[u % spec.tenants.length]!;
    // By default the login is about the user's campaign, as the configured user_login rule keys it.
    rows.push(event(t0, tenant, spec.login, hooks ? hooks.loginEntity(user) : `campaign-of-${user}`, user));
    let t = hooks ? hooks.afterLogin(u, tenant, t0) : t0;
    let state = spec.first;
    for (let step = 0; step < 50 && state !== "end"; step++) {
      const a = spec.actions[state]!;
      t += 1000 + -Math.log(1 - random()) * (a.thinkMs ?? spec.thinkMs);
      const entity = a.keyBy === "user" ? user : hooks ? hooks.entity(u, a.keyBy, t) : `campaign-of-${user}`;
      rows.push(read(t, tenant, a.taskType, entity, user));
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
