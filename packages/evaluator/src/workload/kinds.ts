import { mulberry32 } from "@prescient/core";
import type { CycleSpec } from "./arrivals.js";
import {
  adSessions,
  type EventReads,
  eventThenRead,
  launches,
  type PopularitySpec,
  popularity,
  type SessionSpec,
  type Span,
  scans,
  sessions,
} from "./components.js";
import { type RandomAdStructure, randomAdplatform } from "./random-adplatform.js";
import type { Row } from "./row.js";

/**
 * The workload kinds of `prescient workload generate`, each a combination of
 * components with stated parameters, so that validate.ts can check the
 * generated statistics against them.
 */
export const workloadKinds = [
  "zipf",
  "cycles",
  "sessions",
  "event-read",
  "launches",
  "web",
  "database",
  "ml-training",
  "gaming",
  "hft",
  "adplatform",
  "random-adplatform",
] as const;
export type WorkloadKind = (typeof workloadKinds)[number];

export interface Workload {
  kind: WorkloadKind;
  rows: Row[];
  /** The popularity components' parameters (for the Zipf and cycle checks). */
  popularity: PopularitySpec[];
  session: SessionSpec | undefined;
  /** Announced read probability of event-then-read components, by event. */
  eventReads: Record<string, EventReads>;
  /** random-adplatform: everything drawn from the seed. */
  structure?: RandomAdStructure;
}

const hour = 3_600_000;
const day = 24 * hour;
/** Monday 2024-01-01 00:00 UTC: generated traces start on a Monday. */
export const workloadEpoch = Date.UTC(2024, 0, 1);
const tenants = ["acme", "globex", "initech"] as const;
const flat = (perSecond: number): CycleSpec => ({ perSecond, amplitude: 0, peakHour: 14, weekend: 1 });
const daily = (perSecond: number, amplitude = 0.6, peakHour = 14, weekend = 1): CycleSpec => ({
  perSecond,
  amplitude,
  peakHour,
  weekend,
});

const pop = (o: Partial<PopularitySpec> & Pick<PopularitySpec, "taskType" | "cycle">): PopularitySpec => ({
  tenants,
  prefix: "item",
  keys: 5000,
  exponent: 1,
  driftEveryMs: 6 * hour,
  driftShare: 0.05,
  ...o,
});

/** The announced types follow the shipped configuration's rules (config/task-types.yaml). */
const videoTypes = [
  "scene_detection",
  "face_detection",
  "hook_analysis",
  "ctr_prediction",
  "thumbnail_generation",
  "caption_generation",
];
const campaignTypes = ["variant_generation", "variant_scoring", "roas_prediction"];

export function generate(kind: WorkloadKind, seed: number, days?: number): Workload {
  const random = mulberry32(seed);
  const start = workloadEpoch;
  const span = (d: number): Span => ({ start, end: start + d * day, random });
  const rows: Row[] = [];
  const w: Workload = { kind, rows, popularity: [], session: undefined, eventReads: {} };
  const addPop = (p: PopularitySpec, d: number): void => {
    w.popularity.push(p);
    popularity(rows, p, span(d));
  };
  const uploads = (d: number, perSecond: number): void => {
    w.eventReads.video_uploaded = { types: videoTypes, probability: 0.9 };
    eventThenRead(
      rows,
      {
        tenants,
        event: "video_uploaded",
        prefix: "video",
        types: videoTypes,
        readProbability: 0.9,
        delayMs: [30_000, 600_000],
        rereads: 3,
        rereadWithinMs: 12 * hour,
        cycle: daily(perSecond),
      },
      span(d),
    );
  };
  const campaigns = (d: number, perSecond: number): void => {
    w.eventReads.campaign_created = { types: campaignTypes, probability: 0.9 };
    eventThenRead(
      rows,
      {
        tenants,
        event: "campaign_created",
        prefix: "campaign",
        types: campaignTypes,
        readProbability: 0.9,
        delayMs: [10_000, 300_000],
        rereads: 2,
        rereadWithinMs: 4 * hour,
        cycle: daily(perSecond),
      },
      span(d),
    );
  };
  const launch = (d: number, perSecond: number): void =>
    launches(
      rows,
      {
        tenants,
        prefix: "launch",
        types: ["roas_prediction", "variant_scoring", "campaign_analytics"],
        leadMs: [2 * hour, 20 * hour],
        readsPerType: 8,
        spreadMs: hour,
        cycle: daily(perSecond),
      },
      span(d),
    );
  const sess = (d: number, spec: SessionSpec): void => {
    w.session = spec;
    sessions(rows, spec, span(d));
  };
  switch (kind) {
    case "zipf":
      addPop(pop({ taskType: "ctr_prediction", prefix: "ad", exponent: 1, cycle: flat(2) }), days ?? 2);
      break;
    case "cycles":
      addPop(
        pop({
          taskType: "ctr_prediction",
          prefix: "ad",
          exponent: 0.9,
          driftEveryMs: 0,
          cycle: daily(2, 0.6, 14, 0.5),
        }),
        days ?? 14,
      );
      break;
    case "sessions":
      sess(days ?? 3, { ...adSessions, cycle: daily(0.1) });
      break;
    case "event-read":
      uploads(days ?? 3, 0.02);
      break;
    case "launches":
      launch(days ?? 7, 0.002);
      break;
    case "web":
      addPop(
        pop({
          taskType: "page_score",
          prefix: "page",
          keys: 20_000,
          exponent: 0.8,
          cycle: daily(3, 0.5, 15, 0.7),
        }),
        days ?? 3,
      );
      sess(days ?? 3, { ...adSessions, cycle: daily(0.05) });
      break;
    case "database":
      addPop(
        pop({
          taskType: "query_result",
          prefix: "row",
          keys: 2000,
          exponent: 1.2,
          driftShare: 0.01,
          cycle: daily(5, 0.2),
        }),
        days ?? 2,
      );
      scans(
        rows,
        {
          tenant: "acme",
          taskType: "query_result",
          prefix: "report",
          items: 200,
          everyMs: hour,
          passMs: 60_000,
        },
        span(days ?? 2),
      );
      break;
    case "ml-training":
      scans(
        rows,
        {
          tenant: "acme",
          taskType: "feature_batch",
          prefix: "shard",
          items: 500,
          everyMs: 15 * 60_000,
          passMs: 10 * 60_000,
        },
        span(days ?? 1),
      );
      break;
    case "gaming":
      addPop(
        pop({
          taskType: "matchmaking_score",
          prefix: "player",
          keys: 10_000,
          exponent: 0.9,
          cycle: daily(2, 0.8, 20, 1.3),
        }),
        days ?? 3,
      );
      sess(days ?? 3, { ...adSessions, users: 2000, cycle: daily(0.1, 0.8, 20, 1.3) });
      break;
    case "hft":
      addPop(
        pop({
          taskType: "quote_score",
          prefix: "instrument",
          keys: 500,
          exponent: 1.4,
          driftEveryMs: hour,
          driftShare: 0.02,
          cycle: daily(20, 0.9, 14, 0.05),
        }),
        days ?? 1,
      );
      break;
    case "adplatform": {
      const d = days ?? 3;
      addPop(
        pop({
          taskType: "ctr_prediction",
          prefix: "ad",
          keys: 4000,
          exponent: 1.1,
          cycle: daily(1, 0.6, 14, 0.6),
        }),
        d,
      );
      uploads(d, 0.01);
      campaigns(d, 0.003);
      launch(d, 0.002);
      sess(d, adSessions);
      break;
    }
    case "random-adplatform":
      randomAdplatform(w, random, span(days ?? 3));
      break;
  }
  rows.sort((a, b) => a.time - b.time);
  return w;
}
