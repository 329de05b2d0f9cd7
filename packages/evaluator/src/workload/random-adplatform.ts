import type { CycleSpec } from "./arrivals.js";
import {
  eventThenRead,
  type FanOutSpec,
  fanOut,
  type KeyBy,
  launches,
  type PopularitySpec,
  popularity,
  type SessionSpec,
  type Span,
  sessions,
} from "./components.js";
import type { Workload } from "./kinds.js";
import { event, type Row } from "./row.js";
import { ZipfSampler } from "./zipf.js";

/**
 * random-adplatform: an ad platform whose structure is drawn from the seed,
 * so that settings chosen on some seeds can be judged on others (a policy
 * tuned to one fixed workload learns that workload, not the domain). The
 * structure is drawn first, from the head of the seed's stream, so it does
 * not depend on `days`; everything drawn is returned, so that the checks can
 * hold the generated rows to it.
 */
export interface RandomAdStructure {
  users: number;
  /** Skew of activity (sessions, uploads) among users: rank r ∝ r^−s. */
  userExponent: number;
  /** Campaigns each user creates at most (1..maxCampaigns each, drawn per user). */
  maxCampaigns: number;
  campaignsPerUser: number[];
  /** Skew of a user's reads among their own campaigns, newest first. */
  campaignExponent: number;
  /** Chance that a session under its user's quota begins by creating a campaign (the first always does). */
  newCampaignProbability: number;
  adsPerCampaign: number;
  /** Shared diurnal shape; each process has its own mean rate. */
  diurnal: Omit<CycleSpec, "perSecond">;
  rateScale: number;
  session: SessionSpec;
  fanOut: { video_uploaded: FanOutSpec; campaign_created: FanOutSpec };
  uploadsPerSecond: number;
  ads: PopularitySpec;
  launch: { perSecond: number; types: readonly string[]; leadMs: [number, number]; readsPerType: number };
}

const hour = 3_600_000;
const tenants = ["acme", "globex", "initech"] as const;
/** The candidate fan-outs: the shipped rules' types (config/task-types.yaml), plus analytics for a new campaign. */
const videoTypes = [
  "scene_detection",
  "face_detection",
  "hook_analysis",
  "ctr_prediction",
  "thumbnail_generation",
  "caption_generation",
];
const campaignTypes = ["variant_generation", "variant_scoring", "roas_prediction", "campaign_analytics"];
const launchTypes = ["roas_prediction", "variant_scoring", "campaign_analytics"];
/** Session actions: the first three always, then 0..3 of the rest. */
const actionPool: ReadonlyArray<readonly [string, string, KeyBy]> = [
  ["dashboard", "dashboard_data", "user"],
  ["analytics", "campaign_analytics", "campaign"],
  ["roas", "roas_prediction", "campaign"],
  ["variants", "variant_scoring", "campaign"],
  ["generate", "variant_generation", "campaign"],
  ["creative", "ctr_prediction", "ad"],
];

export function drawStructure(random: () => number): RandomAdStructure {
  const uniform = (lo: number, hi: number): number => lo + random() * (hi - lo);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const shuffled = <T>(xs: readonly T[]): T[] => {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
  const subset = (xs: readonly string[], min: number): string[] => {
    const kept = new Set(xs.filter(() => random() < 0.6));
    for (const x of shuffled(xs)) if (kept.size < min) kept.add(x);
    return xs.filter((x) => kept.has(x)); // in the configured order
  };
  const fan = (types: readonly string[]): FanOutSpec => {
    const first = uniform(5_000, 60_000);
    return {
      types: subset(types, 2),
      readProbability: uniform(0.5, 0.95),
      delayMs: [first, first + uniform(60_000, 600_000)],
      rereads: int(0, 3),
      rereadWithinMs: uniform(1, 12) * hour,
    };
  };
  const users = int(300, 1000);
  const maxCampaigns = int(2, 5);
  const diurnal = { amplitude: uniform(0.2, 0.8), peakHour: uniform(8, 22), weekend: uniform(0.3, 1.2) };
  const rateScale = uniform(0.5, 1.1);
  const cycle = (perSecond: number): CycleSpec => ({ perSecond: perSecond * rateScale, ...diurnal });
  const actions = [...actionPool.slice(0, 3), ...shuffled(actionPool.slice(3)).slice(0, int(0, 3))];
  const names = actions.map(([name]) => name);
  const transitions: Record<string, Array<readonly [string, number]>> = {};
  for (const from of names) {
    // Dirichlet(1) weights over the next actions, after an end probability of 0.1..0.4.
    const end = uniform(0.1, 0.4);
    const w = names.map(() => -Math.log(1 - random()));
    const sum = w.reduce((a, b) => a + b, 0);
    transitions[from] = [...names.map((to, i) => [to, ((1 - end) * w[i]!) / sum] as const), ["end", end]];
  }
  return {
    users,
    userExponent: uniform(0.5, 1),
    maxCampaigns,
    campaignsPerUser: Array.from({ length: users }, () => int(1, maxCampaigns)),
    campaignExponent: uniform(0.7, 1.3),
    newCampaignProbability: uniform(0.05, 0.3),
    adsPerCampaign: int(1, 4),
    diurnal,
    rateScale,
    session: {
      tenants,
      users,
      transitions,
      actions: Object.fromEntries(
        actions.map(([name, taskType, keyBy]) => [
          name,
          { taskType, keyBy, thinkMs: uniform(5_000, 60_000) },
        ]),
      ),
      first: random() < 0.6 ? "dashboard" : names[int(0, names.length - 1)]!,
      thinkMs: 20_000,
      login: "user_login",
      cycle: cycle(0.04),
    },
    fanOut: { video_uploaded: fan(videoTypes), campaign_created: fan(campaignTypes) },
    uploadsPerSecond: 0.005 * rateScale,
    ads: {
      tenants,
      taskType: "ctr_prediction",
      prefix: "ad",
      keys: int(2000, 8000),
      exponent: uniform(0.7, 1.3),
      driftEveryMs: [6, 12, 24][int(0, 2)]! * hour,
      driftShare: uniform(0.01, 0.08),
      cycle: cycle(0.2),
    },
    launch: {
      perSecond: 0.0015 * rateScale,
      types: launchTypes,
      leadMs: [uniform(1, 4) * hour, uniform(8, 24) * hour],
      readsPerType: int(3, 10),
    },
  };
}

/** Draws the structure (first off the stream, so `days` cannot change it), then its rows. */
export function randomAdplatform(w: Workload, random: () => number, span: Span): void {
  const s = drawStructure(random);
  w.structure = s;
  w.session = s.session;
  w.popularity.push(s.ads);
  for (const [name, f] of Object.entries(s.fanOut))
    w.eventReads[name] = { types: f.types, probability: f.readProbability, delayMs: f.delayMs };
  generateRandomAdplatform(w.rows, s, span);
}

/**
 * The rows of a drawn structure. A user's campaigns exist only once a
 * `campaign_created` event carrying the user has been emitted, at the start of
 * one of their sessions; the login names the user alone, so a policy learns
 * whose campaigns are whose from the creation events, as it must in production.
 */
export function generateRandomAdplatform(rows: Row[], s: RandomAdStructure, span: Span): void {
  const { random } = span;
  const owned: string[][] = Array.from({ length: s.users }, () => []);
  const created: Array<{ time: number; id: string; owner: number }> = [];
  const byCount = Array.from({ length: s.maxCampaigns + 1 }, (_, n) =>
    n === 0 ? undefined : new ZipfSampler(n, s.campaignExponent),
  );
  const userZipf = new ZipfSampler(s.users, s.userExponent);
  const tenantOf = (u: number): string => tenants[u % tenants.length]!;
  const campaignOf = (u: number): string => {
    const mine = owned[u]!;
    return mine[byCount[mine.length]!.sample(random)]!;
  };
  sessions(rows, s.session, span, {
    loginEntity: (user) => user,
    afterLogin: (u, tenant, t0) => {
      const mine = owned[u]!;
      if (mine.length >= s.campaignsPerUser[u]!) return t0;
      if (mine.length > 0 && random() >= s.newCampaignProbability) return t0;
      const t = Math.round(t0 + 2_000 + random() * 10_000);
      const id = `campaign${created.length}`;
      rows.push(event(t, tenant, "campaign_created", id, `user${u}`));
      fanOut(rows, s.fanOut.campaign_created, t, tenant, id, random);
      mine.unshift(id); // newest first: the Zipf head is the newest campaign
      created.push({ time: t, id, owner: u });
      return t;
    },
    entity: (u, keyBy) =>
      keyBy === "ad" ? `${campaignOf(u)}-ad${Math.floor(random() * s.adsPerCampaign)}` : campaignOf(u),
  });
  popularity(rows, s.ads, span);
  eventThenRead(
    rows,
    {
      ...s.fanOut.video_uploaded,
      tenants,
      event: "video_uploaded",
      prefix: "video",
      cycle: { ...s.session.cycle, perSecond: s.uploadsPerSecond },
      target: (n) => {
        const u = userZipf.sample(random);
        return { tenant: tenantOf(u), entity: `video${n}`, user: `user${u}` };
      },
    },
    span,
  );
  launches(
    rows,
    {
      tenants,
      prefix: "campaign",
      types: s.launch.types,
      leadMs: s.launch.leadMs,
      readsPerType: s.launch.readsPerType,
      spreadMs: hour,
      cycle: { ...s.session.cycle, perSecond: s.launch.perSecond },
      // The owner schedules the launch of one of the campaigns created so far.
      target: (t) => {
        let lo = 0;
        let hi = created.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (created[mid]!.time < t) lo = mid + 1;
          else hi = mid;
        }
        const c = lo === 0 ? undefined : created[Math.floor(random() * lo)]!;
        return c && c.time < t
          ? { tenant: tenantOf(c.owner), entity: c.id, user: `user${c.owner}` }
          : undefined;
      },
    },
    span,
  );
}
