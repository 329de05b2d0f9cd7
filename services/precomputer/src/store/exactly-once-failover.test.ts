import { randomUUID } from "node:crypto";
import { errorMessage, parseTaskTypes, systemClock } from "@prescient/core";
import {
  clusterKeySlot,
  clusterMasterOf,
  clusterNodesText,
  onClusterNode,
  type RedisClusterProcess,
  type RedisServerProcess,
  replicasOnline,
  startRedisCluster,
  waitForPromotion,
} from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePrecomputerConfig } from "../core/config.js";
import { FakeAnalyzer, FakeCache, FakeExecutor } from "../core/fakes.test-util.js";
import type { PrecomputerLog } from "../core/ports.js";
import { Precomputer } from "../core/precomputer.js";
import type { ClaimOutcome, ClaimRequest, RunFinish, RunRecord, RunStore } from "../core/run-store.js";
import { intervalWindow, runKeyOf, validateCron } from "../core/schedule-window.js";
import { ScheduleRunner } from "../service/schedule-runner.js";
import { RedisRunStore } from "./redis-run-store.js";

/**
 * Issue 15, "Exactly once": every schedule window runs once under three
 * precomputers and a master failover, on a private Redis Cluster (3 masters,
 * 3 replicas; killing a master of the shared one would break other tests).
 *
 * Three replicas, each with its own run store opened from the cluster's URL
 * (as startPrecomputer opens it: no command timeout), run two short interval
 * schedules on real timers. Every time a job really runs, (schedule, window,
 * replica) is recorded. After a few healthy windows, the master serving the
 * run store's shared slot is SIGKILLed: every claim writes the history index
 * under the hash tag {runs-index}. The kill comes in the middle of a window's
 * claims (right after the first replica sends its claim), for a window whose
 * own run record ({<schedule>@<window>}) lives on that master too. The replica
 * is promoted and the runners go on.
 *
 * What the runner promises (schedule-runner.ts, schedule-window.ts): a window
 * is claimed only while it is open, once across replicas; a window that passes
 * while the run store cannot be reached is not run later (no catch-up; a
 * failed tick is tried again in 30 s, in whatever window is open then). So:
 * - no window ever runs twice, before, during or after the failover;
 * - every window that closed before the kill ran exactly once;
 * - every window that opened once the cluster had promoted the replica (plus
 *   a grace for the clients to learn the new slot map) ran exactly once;
 * - windows in between may be missed: counted, with why (no record, or a
 *   claim whose job never ran), and printed, not failed; but a window claimed
 *   on a surviving master must have run (the claim is won by the run record's
 *   script, whatever becomes of the index write after it);
 * - each replica still takes part (its claims are answered) after recovery.
 * The figures are printed for the issue's closing note.
 */

/** Failure detection: low enough for a short test, high enough not to fail over spuriously on a loaded machine. */
const nodeTimeoutMs = 2_000;
/** After the promotion, the clients' slot maps and in-flight ticks settle within this; windows opening later must all run. */
const graceMs = 3_000;
/** Healthy windows of the fast schedule before the kill. */
const windowsBefore = 8;
/** How long the runners go on after the grace: several windows of each schedule. */
const afterMs = 3_000;
/** A gap of the event loop this long (its gauge ticks every 20 ms) is a stall of the machine. */
const stallMs = 150;
/** A kill whose promotion never comes, or a runner that never stops, fails the test rather than hang it. */
const promotionTimeoutMs = 30_000;
const stopTimeoutMs = 20_000;

const yaml = `
task_types:
  ctr_prediction: { kind: external, ttl_seconds: 3600 }
schedules:
  tidy: { job: cleanup, every: 300ms, lease: 2s, retry_after: 100ms }
  sweep: { job: cleanup, every: 500ms, lease: 2s, retry_after: 100ms }
`;
const registry = parseTaskTypes(yaml);
const config = parsePrecomputerConfig(registry.raw, registry, validateCron);
const everyMs = new Map<string, number>(
  [...config.schedules].map(([name, spec]) => [
    name,
    spec.timing.kind === "every" ? spec.timing.everyMs : Number.NaN,
  ]),
);
const replicaNames = ["p1", "p2", "p3"] as const;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A job that really ran: the claim was this replica's and the job was called. */
interface Execution {
  schedule: string;
  windowStart: number;
  replica: string;
  at: number;
}

/** A claim the run store answered (or failed), per replica. */
interface ClaimAnswer {
  replica: string;
  schedule: string;
  windowStart: number;
  sentAt: number;
  answeredAt: number;
  /** claimed, takeover, a refusal's why, or error: … */
  outcome: string;
}

/** The replica's run store, watched: each claim's answer is noted (the store itself is as the precomputer opens it). */
class WatchedRunStore implements RunStore {
  readonly name = "redis";
  constructor(
    readonly inner: RedisRunStore,
    readonly replica: string,
    readonly answers: ClaimAnswer[],
    /** Called once the claim has been sent: the test's kill switch. */
    readonly afterSent: (r: ClaimRequest) => void,
  ) {}
  ready(): Promise<void> {
    return this.inner.ready();
  }
  async claim(r: ClaimRequest): Promise<ClaimOutcome> {
    const sentAt = Date.now();
    const note = (outcome: string): void => {
      this.answers.push({
        replica: this.replica,
        schedule: r.schedule,
        windowStart: r.windowStart,
        sentAt,
        answeredAt: Date.now(),
        outcome,
      });
    };
    const pending = this.inner.claim(r);
    this.afterSent(r);
    try {
      const o = await pending;
      note(o.claimed ? (o.takeover ? "takeover" : "claimed") : o.why);
      return o;
    } catch (e) {
      note(`error: ${errorMessage(e).slice(0, 120)}`);
      throw e;
    }
  }
  /** Redis measures leases on its own clock: the store takes no `now`. */
  renew(key: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.inner.renew(key, owner, leaseMs);
  }
  finish(key: string, owner: string, outcome: RunFinish): Promise<boolean> {
    return this.inner.finish(key, owner, outcome);
  }
  get(key: string): Promise<RunRecord | undefined> {
    return this.inner.get(key);
  }
  list(filter: { schedule?: string; limit: number }): Promise<RunRecord[]> {
    return this.inner.list(filter);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Collects the runner's warnings (failed ticks, lost leases) per replica, for the report. */
function warningLog(replica: string, warnings: string[]): PrecomputerLog {
  return {
    debug: () => {},
    info: () => {},
    warn: (_o, msg) => warnings.push(`${replica}: ${msg}`),
    error: (_o, msg) => warnings.push(`${replica}: ${msg}`),
  };
}

let cluster: RedisClusterProcess;

beforeAll(async () => {
  cluster = await startRedisCluster({ nodeTimeoutMs });
  // cluster_state:ok comes before the replicas' first sync: a kill before it could not fail over.
  for (const node of cluster.nodes) await replicasOnline(node, 30_000);
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Windows of `schedule` that opened at or after `from` and closed at or before `to`. */
function windowsBetween(schedule: string, from: number, to: number): number[] {
  const every = everyMs.get(schedule) as number;
  const out: number[] = [];
  for (let w = intervalWindow(every, from).start; w + every <= to; w += every) if (w >= from) out.push(w);
  return out;
}

describe("exactly-once schedule runs through a Redis Cluster master failover (private cluster)", () => {
  it("three precomputers run every window at most once; every window before the kill and after the promotion exactly once", async () => {
    const nodes = cluster.nodes;
    const keyPrefix = `once-${randomUUID().slice(0, 8)}:`;
    const executions: Execution[] = [];
    const answers: ClaimAnswer[] = [];
    const warnings: string[] = [];
    let afterClaimSent: ((r: ClaimRequest) => void) | undefined;
    // The longest the event loop went without turning, and each stall: a window is skipped when a tick
    // overruns it (the runner does not catch up), so a healthy window that no replica even claimed, next to
    // a stall of the loop all three runners share, is the machine's miss, not the store's.
    let maxGap = 0;
    let lastTurn = Date.now();
    const stalls: Array<{ from: number; to: number }> = [];
    const gauge = setInterval(() => {
      const now = Date.now();
      maxGap = Math.max(maxGap, now - lastTurn);
      if (now - lastTurn >= stallMs) stalls.push({ from: lastTurn, to: now });
      lastTurn = now;
    }, 20);

    const replicas = replicaNames.map((name) => {
      // As startPrecomputer builds it from REDIS_URL: its own cluster client, no command timeout.
      const store = new RedisRunStore(cluster.url, { keyPrefix });
      const runs = new WatchedRunStore(store, name, answers, (r) => afterClaimSent?.(r));
      const core = new Precomputer({
        taskTypes: registry,
        config,
        executor: new FakeExecutor(),
        cache: new FakeCache(),
        analyzer: new FakeAnalyzer(),
        runs,
        clock: systemClock,
        owner: name,
        // Called around a claimed run's job (a clean-up is not a polling job): the job really runs here.
        traceRun: (run, fn) => {
          executions.push({
            schedule: run.schedule,
            windowStart: Date.parse(run.runKey.slice(run.schedule.length + 1)),
            replica: name,
            at: Date.now(),
          });
          return fn();
        },
      });
      const runner = new ScheduleRunner(core, warningLog(name, warnings), systemClock);
      return { name, store, runner };
    });

    let killedAt = 0;
    let promotedAt = 0;
    let stoppedAt = 0;
    try {
      await Promise.all(replicas.map((r) => r.store.ready()));
      const starting = Promise.all(replicas.map((r) => r.runner.start()));
      // Read once every runner has picked its first window (start() reads the clock for it before it returns):
      // read before, it could fall in a window that closed before any runner looked, which none would run.
      const startedAt = Date.now();
      await starting;

      // Healthy windows first.
      const tidyEvery = everyMs.get("tidy") as number;
      while (Date.now() < startedAt + windowsBefore * tidyEvery) await sleep(50);

      // The run store's key layout (redis-run-store.ts): every claim adds to the history indexes, all under
      // the hash tag {runs-index}; a run's record and lease share the tag {<schedule>@<window ISO>}.
      const indexKey = `${keyPrefix}runs:{runs-index}:tidy`;
      const runKey = (schedule: string, w: number): string => `${keyPrefix}run:{${runKeyOf(schedule, w)}}`;
      const indexSlot = await clusterKeySlot(nodes, indexKey);
      const victim = await clusterMasterOf(nodes, indexSlot);
      if (victim === undefined) throw new Error(`no master serves slot ${indexSlot}`);
      // The layout is as this test assumes: the index is on that master (if it moved, the kill would miss it).
      expect(await onClusterNode(victim.port, (n) => n.exists(indexKey))).toBe(1);
      const someRun = executions.find((e) => e.schedule === "tidy");
      if (someRun === undefined) throw new Error("no healthy tidy run before the kill");
      const runSlot = await clusterKeySlot(nodes, runKey("tidy", someRun.windowStart));
      const runMaster = (await clusterMasterOf(nodes, runSlot)) as RedisServerProcess;
      expect(await onClusterNode(runMaster.port, (n) => n.exists(runKey("tidy", someRun.windowStart)))).toBe(
        1,
      );
      await replicasOnline(victim, 10_000, 1);

      // The slots the victim serves, to tell afterwards which windows' records were on it.
      const victimSlots = (
        (await onClusterNode(victim.port, (n) => n.call("CLUSTER", "SLOTS"))) as [
          number,
          number,
          [string, number],
        ][]
      ).filter(([, , [, port]]) => port === victim.port);
      const onVictim = async (key: string): Promise<boolean> => {
        const slot = await clusterKeySlot(nodes, key);
        return victimSlots.some(([from, to]) => slot >= from && slot <= to);
      };
      // The kill: in the middle of a window's claims, for a window whose own run record lives on the victim
      // too (one in three do). The first replica to send its claim for it SIGKILLs the victim right after
      // the claim goes out, so that claim may or may not have run there, and the other two are in flight.
      let target = intervalWindow(tidyEvery, Date.now() + 100).end;
      for (let i = 0; i < 12 && !(await onVictim(runKey("tidy", target))); i++) target += tidyEvery;
      if (target < Date.now() + 20) target = intervalWindow(tidyEvery, Date.now() + 20).end;
      const kill = (): void => {
        if (killedAt > 0) return;
        killedAt = Date.now();
        victim.process.kill("SIGKILL");
      };
      afterClaimSent = (r) => {
        if (r.schedule === "tidy" && r.windowStart === target) kill();
      };
      // Should no claim for it come (a late wake on a loaded machine), the kill comes anyway.
      while (killedAt === 0 && Date.now() < target + 2 * tidyEvery) await sleep(10);
      afterClaimSent = undefined;
      kill();
      await victim.stop("SIGKILL");

      await waitForPromotion(nodes, indexSlot, victim, promotionTimeoutMs);
      promotedAt = Date.now();

      // Run on through the grace and several windows after it.
      while (Date.now() < promotedAt + graceMs + afterMs) await sleep(50);
      stoppedAt = Date.now();
      const stopped = await Promise.race([
        Promise.all(replicas.map((r) => r.runner.stop())).then(() => true),
        sleep(stopTimeoutMs).then(() => false),
      ]);
      if (!stopped) throw new Error(`a runner still had a tick under way ${stopTimeoutMs} ms after stop`);

      // What happened, window by window.
      const recoveredFrom = promotedAt + graceMs;
      const figures: Record<string, unknown> = {};
      const problems: string[] = [];
      let totalRun = 0;
      let totalDuplicates = 0;
      let totalMissed = 0;
      /** The end of the last window missed: every window from then on ran. */
      let lastMissedEnd = killedAt;
      for (const schedule of everyMs.keys()) {
        const runsOf = new Map<number, Execution[]>();
        for (const e of executions.filter((x) => x.schedule === schedule))
          runsOf.set(e.windowStart, [...(runsOf.get(e.windowStart) ?? []), e]);
        const every = everyMs.get(schedule) as number;
        const all = windowsBetween(schedule, intervalWindow(every, startedAt).start, stoppedAt);
        const before = all.filter((w) => w + every <= killedAt);
        const after = all.filter((w) => w >= recoveredFrom);
        const during = all.filter((w) => w + every > killedAt && w < recoveredFrom);
        const duplicates = [...runsOf].filter(([, es]) => es.length > 1);
        const missed = (ws: number[]): number[] => ws.filter((w) => !runsOf.has(w));
        for (const [w, es] of duplicates)
          problems.push(
            `${schedule} window ${runKeyOf(schedule, w)} ran ${es.length} times: ${es.map((e) => `${e.replica} at +${e.at - w} ms`).join(", ")}`,
          );
        // A healthy window must run: any miss outside the failover fails.
        const claimsNear = (w: number): string =>
          answers
            .filter((a) => a.schedule === schedule && a.sentAt >= w - every / 2 && a.sentAt < w + every)
            .map((a) => `${a.replica} sent +${a.sentAt - w} ms for ${a.windowStart - w}: ${a.outcome}`)
            .join("; ") || "no claims near it";
        // Excused only with no claim for the window at all, and either a stall of the loop within a window
        // of it or a tick of the schedule still waiting on an earlier claim while the window was open (a
        // claim slower than a window on a loaded machine: the runner does not catch up by design).
        const stalled = (w: number): boolean =>
          !answers.some((a) => a.schedule === schedule && a.windowStart === w) &&
          (stalls.some((g) => g.to >= w - every && g.from <= w + every) ||
            answers.some(
              (a) => a.schedule === schedule && a.windowStart < w && a.sentAt < w + every && a.answeredAt > w,
            ));
        const excused: string[] = [];
        for (const [when, ws] of [
          ["before the kill", missed(before)],
          ["after recovery", missed(after)],
        ] as const)
          for (const w of ws)
            if (stalled(w)) excused.push(`${runKeyOf(schedule, w)} ${when}`);
            else
              problems.push(
                `${schedule} window ${runKeyOf(schedule, w)} ${when} did not run (${claimsNear(w)})`,
              );
        // Why each failover window was missed, from the store: no record (no claim got through), or a claim
        // that won but whose job never ran. The latter is a failover's lost reply only when the record was on
        // the victim; a claim won on a surviving master must have run its job.
        const missedDuring = await Promise.all(
          missed(during).map(async (w) => {
            const key = runKeyOf(schedule, w);
            const record = await replicas[0]?.store.get(key).catch(() => undefined);
            const where = (await onVictim(runKey(schedule, w))) ? "on the victim" : "on a surviving master";
            if (record?.status === "running" && where !== "on the victim")
              problems.push(`${key} was claimed by ${record.owner} ${where} but its job never ran`);
            return record === undefined
              ? `${key}: no record (${where})`
              : `${key}: ${record.status} by ${record.owner}, attempts ${record.attempts} (${where})`;
          }),
        );
        // Every replica still takes part: its claims for windows after recovery are answered.
        const answeredAfter = Object.fromEntries(
          replicaNames.map((name) => [
            name,
            answers.filter(
              (a) =>
                a.replica === name &&
                a.schedule === schedule &&
                a.windowStart >= recoveredFrom &&
                !a.outcome.startsWith("error"),
            ).length,
          ]),
        );
        for (const [name, n] of Object.entries(answeredAfter))
          if (n === 0) problems.push(`${name} answered no ${schedule} claim after recovery`);
        totalRun += runsOf.size;
        totalDuplicates += duplicates.length;
        totalMissed += missed(all).length;
        for (const w of missed(all)) lastMissedEnd = Math.max(lastMissedEnd, w + every);
        figures[schedule] = {
          everyMs: every,
          windows: all.length,
          ran: all.filter((w) => runsOf.has(w)).length,
          duplicates: duplicates.length,
          before: `${before.length - missed(before).length}/${before.length}`,
          during: `${during.length - missed(during).length}/${during.length}`,
          after: `${after.length - missed(after).length}/${after.length}`,
          missedDuring,
          missedInStalls: excused,
          claimsAnsweredAfterRecovery: answeredAfter,
        };
      }
      // The first claim sent after the kill that won its window (its job ran right after).
      const firstAfterKill = answers
        .filter((a) => a.sentAt > killedAt && (a.outcome === "claimed" || a.outcome === "takeover"))
        .sort((a, b) => a.answeredAt - b.answeredAt)[0];
      const failedClaims = answers.filter((a) => a.outcome.startsWith("error"));
      const slowest = answers.reduce((m, a) => Math.max(m, a.answeredAt - a.sentAt), 0);
      console.log(
        `exactly-once failover: ${JSON.stringify({
          windowsRun: totalRun,
          duplicates: totalDuplicates,
          missed: totalMissed,
          promotionMs: promotedAt - killedAt,
          // From the kill until every window ran again (the end of the last window missed).
          recoveryMs: lastMissedEnd - killedAt,
          firstRunAfterKillMs: firstAfterKill === undefined ? null : firstAfterKill.answeredAt - killedAt,
          maxEventLoopGapMs: maxGap,
          stalls: stalls.map((g) => ({ at: g.from - killedAt, ms: g.to - g.from })),
          failedClaims: failedClaims.length,
          slowestClaimMs: slowest,
          killedPort: victim.port,
          killedInClaimsOf: runKeyOf("tidy", target),
          killedAtMsIntoWindow: killedAt - target,
          ...figures,
        })}`,
      );
      const warned = new Map<string, number>();
      for (const w of warnings) warned.set(w, (warned.get(w) ?? 0) + 1);
      if (warned.size > 0)
        console.log(`exactly-once failover: runner warnings: ${JSON.stringify([...warned])}`);
      if (failedClaims.length > 0)
        console.log(
          `exactly-once failover: failed claims: ${JSON.stringify(
            failedClaims
              .slice(0, 6)
              .map((a) => ({ ...a, sentAt: a.sentAt - killedAt, answeredAt: a.answeredAt - killedAt })),
          )}`,
        );
      if (problems.length > 0)
        throw new Error(
          `${problems.join("\n")}\n(kill at ${new Date(killedAt).toISOString()}, promoted +${promotedAt - killedAt} ms, longest event loop gap ${maxGap} ms)\n${await clusterNodesText(nodes).catch(() => "")}`,
        );
      expect(totalDuplicates).toBe(0);
      expect(firstAfterKill).toBeDefined();
    } catch (e) {
      if (killedAt > 0 && promotedAt === 0)
        console.log(
          `exactly-once failover: CLUSTER NODES:\n${await clusterNodesText(nodes).catch(() => "")}`,
        );
      throw e;
    } finally {
      clearInterval(gauge);
      await Promise.race([Promise.all(replicas.map((r) => r.runner.stop())), sleep(5_000)]);
      await Promise.all(replicas.map((r) => r.store.close()));
    }
  }, 90_000);
});
