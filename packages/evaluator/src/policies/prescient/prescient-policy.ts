import {
  type ActionEventInput,
  Analyzer,
  emptyIngestResult,
  MemoryAnalyzerStore,
  type QueryEventInput,
} from "@prescient/analyzer";
import { mulberry32, TaskTypeRegistry, xfetchRefreshDue } from "@prescient/core";
import {
  Budget,
  type PlannedTask,
  type PrecomputerConfig,
  parsePrecomputerConfig,
  planFanOut,
  planPredicted,
  refreshDecision,
  refreshHorizonMs,
  selectTopN,
  type TriggerRule,
} from "@prescient/precomputer";
import type { TypeTable } from "../../sim/options.js";
import type { Policy, PolicyContext } from "../../sim/policy.js";
import { canonicalKey, type TraceEvent, type TraceRead } from "../../trace/record.js";
import { FanOutLearner } from "./fan-out-learner.js";
import { MemoryModelPublisher, SparseScorer } from "./model-ports.js";
import { type PrescientSettings, prescientDefaults } from "./settings.js";

/**
 * `prescient`: the mesh's policies, run as they run live, under the virtual
 * clock. The analyzer core (memory store) learns demand, the traffic profile,
 * next keys and next actions from the replayed reads; events fan out to task
 * types; the daily top-N runs at the analyzer's off-peak window; launches are
 * warmed ahead; hot results are refreshed before they expire (the cache's
 * XFetch on hits, and a refresh-ahead check before each expiry); predicted
 * keys and actions are computed ahead. Every ahead-of-time compute spends the
 * run's budget.
 */
const outcomeCode = { hit: 1, stale: 2, miss: 3 } as const;

export interface PrescientEnv {
  types: TypeTable;
  topN: number;
  taskTypes: TaskTypeRegistry | undefined;
}

export function prescientPolicy(env: PrescientEnv, settings?: Partial<PrescientSettings>): Policy {
  const s = { ...prescientDefaults, ...settings };
  const random = mulberry32(s.seed);
  const registry = env.taskTypes ?? new TaskTypeRegistry([]);
  const config: PrecomputerConfig = parsePrecomputerConfig(registry.raw, registry);
  // The simulation's token bucket is the budget every policy shares; the precomputer's
  // Budget still orders a batch by priority and backs off under live load.
  let budget: Budget | undefined;
  let liveWindow = 0;
  let liveCount = 0;
  let liveQps = 0;
  const anyType = (): boolean => true;
  const submit = (
    ctx: PolicyContext,
    tasks: readonly PlannedTask[],
    neededUntil: (t: PlannedTask) => number,
  ): void => {
    const { admitted } = budget!.admit(tasks, { liveQps });
    for (const t of admitted)
      ctx.precompute(t.key, t.taskType, t.reason === "manual" ? "trigger" : t.reason, neededUntil(t));
  };
  const ruleOf = (event: string): TriggerRule | undefined => {
    const configured = config.rules.get(event);
    if (configured !== undefined) return configured;
    const types = learner.targets(event);
    if (types.length === 0) return undefined;
    return {
      event,
      targets: types.map((taskType) => ({ taskType, priority: 5, keyBy: "entity" as const })),
      predictNextActions: false,
      predictNextKeys: false,
      skipFresh: true,
      description: "learned from the trace",
    };
  };
  let analyzer: Analyzer | undefined;
  let queries: QueryEventInput[] = [];
  let actions: ActionEventInput[] = [];
  const learner = new FanOutLearner({
    windowMs: s.learnWindowMs,
    minSupport: s.learnMinSupport,
    minShare: s.learnMinShare,
  });
  /** Reads of each key since its current result was stored: the refresh-ahead demand signal. */
  const readsSinceStored = new Map<string, number>();
  /** Reads of the key during its previous result's lifetime. */
  const readsBefore = new Map<string, number>();
  /** Per task type: reads keyed by their user, and all reads (predicted actions compute user-keyed results). */
  const userKeyed = new Map<string, [number, number]>();

  const flush = async (a: Analyzer): Promise<void> => {
    if (queries.length > 0) {
      const batch = queries;
      queries = [];
      await a.recordQueries(batch, emptyIngestResult());
    }
    if (actions.length > 0) {
      const batch = actions;
      actions = [];
      await a.recordActions(batch, emptyIngestResult());
    }
  };

  const scheduleTopN = async (ctx: PolicyContext, a: Analyzer, after: number): Promise<void> => {
    const w = await a.offPeakWindow({ durationMinutes: s.offPeakWindowMinutes, timeZone: "UTC" });
    // The next window strictly after the last run, so each window runs once.
    const next = w.nextStart > after ? w.nextStart : w.nextStart + 86_400_000;
    ctx.at(next, async () => {
      await flush(a);
      const patterns = await a.topPatterns({ limit: Math.min(env.topN, a.settings.keyCapacity) });
      const byKey = new Map(patterns.map((p) => [p.key, p]));
      const tasks = selectTopN(
        patterns,
        { limit: env.topN, priority: 4, tenantWeight: (t) => budget!.weightOf(t) },
        anyType,
        new Map(),
      )
        // Only what is expected to be read at least once before the result expires.
        .filter((t) => (byKey.get(t.key)?.demand ?? 0) * (ctx.ttlMs(t.taskType) / 1000) >= 1);
      submit(ctx, tasks, (t) => ctx.now() + ctx.ttlMs(t.taskType) / 2);
      await scheduleTopN(ctx, a, ctx.now() + s.offPeakWindowMinutes * 60_000);
    });
  };

  const retrain = (ctx: PolicyContext, a: Analyzer): void => {
    ctx.at(ctx.now() + s.retrainEveryMs, async () => {
      await flush(a);
      await a.retrainNextAction();
      retrain(ctx, a);
    });
  };

  const fanOut = (e: TraceEvent, ctx: PolicyContext): void => {
    const rule = ruleOf(e.event);
    if (rule === undefined) return;
    const tasks = planFanOut(
      {
        type: e.event,
        tenant: e.tenant,
        entityId: e.entity,
        userId: e.user,
        features: {},
        attributes: {},
        time: e.time,
      },
      rule,
    ).map((t) => ({ ...t, key: canonicalKey(t.tenant, t.taskType, t.entityId) }));
    if (e.anchor <= e.time) {
      submit(ctx, tasks, () => e.time);
      return;
    }
    // A launch: warmed ahead of it, within half the TTL so the results are still fresh at the launch.
    for (const t of tasks)
      ctx.at(e.anchor - Math.min(s.launchLeadMs, ctx.ttlMs(t.taskType) / 2), () =>
        submit(ctx, [{ ...t, reason: "launch" }], () => e.anchor),
      );
  };

  const predict = async (read: TraceRead, ctx: PolicyContext, a: Analyzer): Promise<void> => {
    const keys = await a.predictNextKeys(read.key, s.predictLimit);
    let actions: Array<{ action: string; probability: number }> = [];
    if (read.user !== "") {
      const p = await a.predictNextActions({ tenant: read.tenant, userId: read.user, limit: s.predictLimit });
      actions = p.actions;
    }
    if (keys.length === 0 && actions.length === 0) return;
    // Predicted actions compute results keyed by the acting user: only types the trace keys that way.
    const isUserKeyed = (t: string): boolean => {
      const uk = userKeyed.get(t);
      return uk !== undefined && uk[0] * 2 >= uk[1];
    };
    const plan = planPredicted(
      {
        tenant: read.tenant,
        subject: read.user,
        actions: actions.filter((x) => isUserKeyed(x.action)),
        keys,
      },
      { ...config.predicted, minConfidence: s.minConfidence },
      config.rules,
      anyType,
    );
    submit(ctx, plan.tasks, (t) => ctx.now() + ctx.latencyMs(t.taskType) * 2);
  };

  return {
    name: "prescient",
    caches: true,
    lookaheadMs: 0,
    async start(ctx) {
      budget = new Budget(ctx.clock, { ...config.budget, perMinute: Number.MAX_SAFE_INTEGER });
      analyzer = new Analyzer(
        {
          store: new MemoryAnalyzerStore(),
          publisher: new MemoryModelPublisher(),
          scorer: new SparseScorer(),
        },
        { clock: ctx.clock, maxActionsPerUser: 32, maxUsers: 20_000, daysToKeep: 3650 },
      );
      await analyzer.start();
      await scheduleTopN(ctx, analyzer, ctx.now() - 1);
      retrain(ctx, analyzer);
    },
    async onRead(read, outcome, ctx) {
      const a = analyzer!;
      if (read.time - liveWindow >= 1000) {
        liveQps = (liveCount * 1000) / Math.max(1000, read.time - liveWindow);
        liveWindow = read.time;
        liveCount = 0;
      }
      liveCount++;
      queries.push({
        time: new Date(read.time),
        tenant: read.tenant,
        taskType: read.taskType,
        entityId: read.entity,
        key: read.key,
        userId: read.user,
        outcome: outcomeCode[outcome.outcome],
        computeMs: outcome.computeMs,
        latencyMs: 0,
      });
      if (read.user !== "") {
        actions.push({
          time: new Date(read.time),
          tenant: read.tenant,
          userId: read.user,
          action: read.taskType,
          attributes: {},
        });
        const uk = userKeyed.get(read.taskType) ?? [0, 0];
        if (read.entity === read.user) uk[0]++;
        uk[1]++;
        userKeyed.set(read.taskType, uk);
      }
      learner.observeRead(read.tenant, read.entity, read.taskType, read.time);
      readsSinceStored.set(read.key, (readsSinceStored.get(read.key) ?? 0) + 1);
      if (outcome.outcome === "hit") {
        // The cache's XFetch: a hit close to expiry of a costly result refreshes it early.
        const until = ctx.cache.freshUntil(read.key);
        const beta = env.taskTypes?.has(read.taskType) ? env.taskTypes.get(read.taskType).xfetchBeta : 1;
        if (
          until !== undefined &&
          xfetchRefreshDue(read.time, until, ctx.latencyMs(read.taskType), beta, random)
        )
          submit(
            ctx,
            [
              {
                key: read.key,
                tenant: read.tenant,
                taskType: read.taskType,
                entityId: read.entity,
                priority: config.refreshAhead.priority,
                reason: "refresh",
              },
            ],
            () => until + 1,
          );
      }
      if (queries.length >= s.reportBatch) await flush(a);
      await predict(read, ctx, a);
    },
    async onEvent(e, ctx) {
      learner.observeEvent(e.tenant, e.entity, e.event, e.anchor);
      fanOut(e, ctx);
    },
    onStored(key, taskType, expiresAt, _reason, ctx) {
      readsBefore.set(key, readsSinceStored.get(key) ?? 0);
      readsSinceStored.set(key, 0);
      const storedAt = ctx.now();
      const ttlMs = ctx.ttlMs(taskType);
      // The precomputer checks on a period, so its horizon must cover the period; here each result
      // has its own timer, so the horizon only has to cover the compute. A key is in demand when
      // it is read at least `refreshMinReads` times per TTL (or at the precomputer's minimum).
      const settings = {
        ...config.refreshAhead,
        horizonMs: ctx.latencyMs(taskType) * 2,
        horizonFraction: s.refreshLeadFraction,
        minDemand: Math.min(config.refreshAhead.minDemand, s.refreshMinReads / (ttlMs / 1000)),
      };
      const horizon = refreshHorizonMs(ttlMs, settings);
      ctx.at(expiresAt - horizon, () => {
        if (ctx.cache.freshUntil(key) !== expiresAt) return;
        // One read in one lifetime is weak evidence on a long tail; ask for the same again over two.
        const reads = readsSinceStored.get(key) ?? 0;
        if (reads === 0 || reads + (readsBefore.get(key) ?? 0) < s.refreshMinReads * 2) return;
        // The key's demand over this result's lifetime so far, reads per second.
        const demand = (readsSinceStored.get(key) ?? 0) / Math.max(1, (ctx.now() - storedAt) / 1000);
        if (refreshDecision({ demand, expiresAt, ttlMs }, ctx.now(), settings) !== "refresh") return;
        const parts = key.split("/");
        submit(
          ctx,
          [
            {
              key,
              tenant: parts[0] ?? "",
              taskType,
              entityId: parts[2] ?? "",
              priority: settings.priority,
              reason: "refresh",
            },
          ],
          () => expiresAt + 1,
        );
      });
    },
  };
}
