import { analyzerV1 } from "@prescient/contracts";
import { mulberry32 } from "@prescient/core";
import type { Analyzer } from "./analyzer.js";
import { emptyIngestResult } from "./core/events.js";

const { LookupOutcome } = analyzerV1;

/**
 * What an ad platform sends the analyzer, as the calls that carry it: domain
 * events (campaigns created, logins) followed by the reads they cause,
 * dashboard actions relating users to campaigns, numbered report pages read
 * in order (scans), and a few malformed events. Deterministic per seed.
 */
export type Call =
  | { kind: "events"; at: number; events: analyzerV1.DomainEvent[] }
  | { kind: "actions"; at: number; events: analyzerV1.ActionEvent[] }
  | { kind: "batch"; at: number; events: analyzerV1.QueryEvent[] }
  | { kind: "stream"; at: number; messages: analyzerV1.QueryEvent[][] };

/** A few hours of traffic (240 steps of 30 s from `start`) over the tenants given. */
export function workload(seed: number, start: number, tenants: readonly string[]): Call[] {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const calls: Call[] = [];
  /** Reads owed after events, by when they are due. */
  let owed: Array<{ due: number; read: analyzerV1.QueryEvent }> = [];
  const pages = new Map<string, number>();
  const read = (t: number, tenant: string, taskType: string, entityId: string, userId: string) => ({
    time: new Date(t),
    tenant,
    taskType,
    entityId,
    key: "",
    userId,
    outcome: random() < 0.5 ? LookupOutcome.LOOKUP_OUTCOME_HIT : LookupOutcome.LOOKUP_OUTCOME_MISS,
    computeMs: 3,
    latencyMs: 1,
  });
  for (let step = 0; step < 240; step++) {
    const at = start + step * 30_000;
    const events: analyzerV1.DomainEvent[] = [];
    const actions: analyzerV1.ActionEvent[] = [];
    const reads: analyzerV1.QueryEvent[] = [];
    for (let i = 0; i < 6; i++) {
      const tenant = pick(tenants);
      const user = `u${Math.floor(random() * 12)}`;
      const campaign = `c${Math.floor(random() * 20)}`;
      const t = at - Math.floor(random() * 20_000);
      const r = random();
      if (r < 0.3) {
        events.push({
          time: new Date(t),
          tenant,
          type: "campaign_created",
          entityId: campaign,
          userId: user,
          relatedEntityIds: [],
        });
        if (random() < 0.8)
          owed.push({
            due: t + 60_000,
            read: read(t + 60_000, tenant, "campaign_analytics", campaign, user),
          });
        if (random() < 0.6)
          owed.push({ due: t + 90_000, read: read(t + 90_000, tenant, "roas_prediction", campaign, user) });
      } else if (r < 0.5) {
        events.push({
          time: new Date(t),
          tenant,
          type: "user_login",
          entityId: "",
          userId: user,
          relatedEntityIds: [],
        });
        owed.push({ due: t + 30_000, read: read(t + 30_000, tenant, "dashboard_data", user, user) });
      } else if (r < 0.65) {
        actions.push({
          time: new Date(t),
          tenant,
          userId: user,
          action: "open_dashboard",
          attributes: {},
          relatedEntityIds: [campaign],
        });
      } else {
        // A scan: numbered pages of one report, read in order.
        const file = `${tenant}/report-${Math.floor(random() * 3)}`;
        const page = (pages.get(file) ?? 0) + 1;
        pages.set(file, page);
        reads.push(
          read(t, tenant, "report_page", `r${file.slice(-1)}-${String(page).padStart(4, "0")}`, user),
        );
      }
    }
    if (step % 17 === 5) reads.push(read(at, "", "ctr_prediction", "x", "u1")); // no tenant
    if (step % 23 === 7)
      events.push({
        time: new Date(at),
        tenant: "bad tenant!",
        type: "user_login",
        entityId: "",
        userId: "u1",
        relatedEntityIds: [],
      });
    const due = owed.filter((o) => o.due <= at);
    owed = owed.filter((o) => o.due > at);
    reads.push(...due.map((o) => o.read));
    reads.sort((a, b) => a.time!.getTime() - b.time!.getTime());
    if (events.length > 0) calls.push({ kind: "events", at, events });
    if (actions.length > 0) calls.push({ kind: "actions", at, events: actions });
    if (reads.length > 0)
      calls.push(
        step % 3 === 0
          ? { kind: "stream", at, messages: [reads.slice(0, 3), reads.slice(3)] }
          : { kind: "batch", at, events: reads },
      );
  }
  return calls;
}

/** Makes each call on the analyzer, moving the clock to it first. */
export async function play(
  analyzer: Analyzer,
  clock: { set(ms: number): void },
  calls: readonly Call[],
): Promise<void> {
  for (const call of calls) {
    clock.set(call.at);
    const result = emptyIngestResult();
    if (call.kind === "events") analyzer.recordEvents(call.events, result);
    else if (call.kind === "actions") await analyzer.recordActions(call.events, result);
    else if (call.kind === "batch") await analyzer.recordQueries(call.events, result);
    else for (const events of call.messages) await analyzer.recordQueries(events, result);
  }
}

/** Interleaves workloads call by call, in time order. */
export function merged(...workloads: Call[][]): Call[] {
  return workloads
    .flat()
    .map((c, i) => ({ c, i }))
    .sort((x, y) => x.c.at - y.c.at || x.i - y.i)
    .map((x) => x.c);
}
