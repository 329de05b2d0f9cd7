import {
  type ActionEventInput,
  Analyzer,
  emptyIngestResult,
  MemoryAnalyzerStore,
  type QueryEventInput,
} from "@prescient/analyzer";
import { InvalidArgumentError, mulberry32, TaskTypeRegistry, xfetchRefreshDue } from "@prescient/core";
import {
  Budget,
  inProcessAnalyzer,
  type PlannedTask,
  type PrecomputerConfig,
  PrecomputerCounters,
  parsePrecomputerConfig,
  planFanOut,
  planLaunchWarming,
  planReadAhead,
  planRefreshAhead,
  precomputerDefaults,
  RareWarnings,
  refreshHorizonMs,
  type ScheduleSpec,
  selectTopN,
  silentLog,
  TriggerPredictions,
  type TriggerRule,
} from "@prescient/precomputer";
import type { TypeTable } from "../../sim/options.js";
import type { Policy, PolicyContext } from "../../sim/policy.js";
import { canonicalKey, type TraceEvent } from "../../trace/record.js";
import { FanOutLearner } from "./fan-out-learner.js";
import { MemoryModelPublisher, SparseScorer } from "./model-ports.js";
import { refreshCandidates } from "./refresh-candidates.js";
import { RefreshSource } from "./refresh-source.js";
import { driveSchedule, simulatedTypes } from "./schedules.js";
import { type PrescientSettings, prescientDefaults } from "./settings.js";

/**
 * `prescient`: the mesh's policies, run as they run live, under the virtual
 * clock. The analyzer core (memory store) learns demand, the traffic profile,
 * next keys and next actions from the replayed reads; events fan out to task
 * types; the precomputer's top-N job precomputes the hottest keys (the
 * configured daily_top_n runs in the analyzer's off-peak window); launches are
 * registered with the analyzer and warmed by its launch-warming job; hot
 * results near expiry, and the keys the cache's XFetch flagged on hits, are
 * refreshed by its refresh-ahead job; the keys past sequential runs are read
 * ahead by its readahead job (every job on its configured schedule's
 * windows); a rule's predicted actions and next keys are planned on its
 * triggers by the precomputer's TriggerPredictions. Reads reach the analyzer
 * as the cache's query reporter sends them, in batches. Every ahead-of-time
 * compute spends the run's budget.
 */
const outcomeCode = { hit: 1, stale: 2, miss: 3 } as const;

export interface PrescientEnv {
  types: TypeTable;
  taskTypes: TaskTypeRegistry | undefined;
}

export function prescientPolicy(env: PrescientEnv, settings?: Partial<PrescientSettings>): Policy {
  const s = { ...prescientDefaults, ...settings };
  const random = mulberry32(s.seed);
  const registry = env.taskTypes ?? new TaskTypeRegistry([]);
  const ttlOf = (t: string): number => env.types.of(t).ttlMs;
  // Parsed against the replay's TTLs (the trace's types and --ttl included), as the
  // precomputer parses against the declared ones: schedule periods follow them.
  const config: PrecomputerConfig = parsePrecomputerConfig(
    registry.raw,
    simulatedTypes([...registry.list().map((t) => t.name), ...env.types.types()], registry, ttlOf),
  );
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
    // A task the precomputer holds back (notBefore) is delivered by the queue at that time.
    const later = new Map<number, PlannedTask[]>();
    const ready: PlannedTask[] = [];
    for (const t of tasks)
      if (t.notBefore !== undefined && t.notBefore > ctx.now())
        later.set(t.notBefore, [...(later.get(t.notBefore) ?? []), t]);
      else ready.push(t);
    for (const [time, held] of later) ctx.at(time, () => submit(ctx, held, neededUntil));
    const { admitted } = budget!.admit(ready, { liveQps });
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
  let predictions: TriggerPredictions | undefined;
  /** Per task type: reads keyed by their user, and all reads. */
  const userKeyed = new Map<string, [number, number]>();
  // A trace names no action-to-type mapping (precomputer.predicted.actions): a predicted
  // action computes its type's result for the acting user, so only for types the trace keys by user.
  const isUserKeyed = (t: string): boolean => {
    const uk = userKeyed.get(t);
    return uk !== undefined && uk[0] * 2 >= uk[1];
  };
  let queries: QueryEventInput[] = [];
  /** When the oldest query waiting for the analyzer was read. */
  let queuedSince = 0;
  let actions: ActionEventInput[] = [];
  const learner = new FanOutLearner({
    windowMs: s.learnWindowMs,
    minSupport: s.learnMinSupport,
    minShare: s.learnMinShare,
  });
  const enabled = (job: ScheduleSpec["job"]): ScheduleSpec[] =>
    [...config.schedules.values()].filter((spec) => spec.enabled && spec.job === job);
  const topSchedules = enabled("top_n");
  const launchSchedules = enabled("launch_warming");
  const refreshSchedules = enabled("refresh_ahead");
  const readAheadSchedules = enabled("readahead");
  /** The cache as the refresh-ahead job sees it; kept only when such a job is configured. */
  const refresh = refreshSchedules.length > 0 ? new RefreshSource(config.refreshAhead) : undefined;

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

  const retrain = (ctx: PolicyContext, a: Analyzer): void => {
    ctx.at(ctx.now() + s.retrainEveryMs, async () => {
      await flush(a);
      await a.retrainNextAction();
      retrain(ctx, a);
    });
  };

  const topN = async (ctx: PolicyContext, a: Analyzer, spec: ScheduleSpec): Promise<void> => {
    const patterns = await a.topPatterns({
      limit: spec.limit,
      ...(spec.taskType !== undefined ? { taskType: spec.taskType } : {}),
      ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
    });
    const top = selectTopN(
      patterns,
      { limit: spec.limit, priority: spec.priority, tenantWeight: (t) => budget!.weightOf(t) },
      anyType,
      new Map(),
    );
    // Keys fresh beyond their refresh horizon need nothing now.
    const now = ctx.now();
    const due = top.filter((t) => {
      const until = ctx.cache.freshUntil(t.key);
      return (
        until === undefined || until - now <= refreshHorizonMs(ctx.ttlMs(t.taskType), config.refreshAhead)
      );
    });
    submit(ctx, due, (t) => now + ctx.ttlMs(t.taskType) / 2);
  };

  const launchWarming = async (ctx: PolicyContext, a: Analyzer, spec: ScheduleSpec): Promise<void> => {
    const launches = await a.upcomingLaunches(spec.hoursAhead, spec.tenant ?? "");
    const defaults =
      spec.taskTypes.length > 0
        ? spec.taskTypes
        : ((
            config.rules.get("campaign_launch_scheduled") ?? config.rules.get("campaign_created")
          )?.targets.map((t) => t.taskType) ?? []);
    const launchAt = new Map<string, number>();
    for (const l of launches)
      for (const type of l.taskTypes.length > 0 ? l.taskTypes : defaults)
        for (const entity of l.entityIds.length > 0 ? l.entityIds : [l.campaignId]) {
          const key = canonicalKey(l.tenant, type, entity);
          if (!launchAt.has(key)) launchAt.set(key, l.launchAt);
        }
    const tasks = planLaunchWarming(
      launches,
      {
        now: ctx.now(),
        hoursAhead: spec.hoursAhead,
        leadMs: spec.leadMs,
        priority: spec.priority,
        defaultTaskTypes: defaults,
      },
      simulatedTypes(
        [...launchAt.keys()].map((k) => k.split("/")[1] ?? ""),
        registry,
        ttlOf,
      ),
      new Map(),
    );
    submit(ctx, tasks, (t) => launchAt.get(t.key) ?? ctx.now());
  };

  /** The live RefreshAheadJob's plan: XFetch-flagged keys, and the analyzer's hot keys near expiry. */
  const refreshAhead = async (ctx: PolicyContext, a: Analyzer, spec: ScheduleSpec): Promise<void> => {
    const st = config.refreshAhead;
    const now = ctx.now();
    const flagged = refresh!.takeFlagged(st.refreshDueLimit);
    const candidates = await refreshCandidates(a, refresh!, ctx, spec, st);
    const tasks = planRefreshAhead(candidates, flagged, now, st, new Map());
    // Results fresh beyond their refresh horizon need nothing (a flagged key may have been recomputed since).
    submit(ctx, tasks, (t) => now + refreshHorizonMs(ctx.ttlMs(t.taskType), st));
  };

  const fanOut = async (e: TraceEvent, ctx: PolicyContext, a: Analyzer): Promise<void> => {
    const rule = ruleOf(e.event);
    if (e.anchor > e.time) {
      // A launch: registered with the analyzer, for the launch-warming job to warm ahead of it.
      try {
        await a.registerLaunch({
          id: "",
          tenant: e.tenant,
          campaignId: e.entity,
          launchAt: new Date(e.anchor),
          entityIds: [e.entity],
          taskTypes: rule?.targets.map((t) => t.taskType) ?? [],
        });
      } catch (err) {
        // The analyzer refuses what it cannot key (as RegisterLaunch would): nothing to warm.
        if (!(err instanceof InvalidArgumentError)) throw err;
      }
      return;
    }
    if (rule === undefined) return;
    const event = {
      type: e.event,
      tenant: e.tenant,
      entityId: e.entity,
      userId: e.user,
      features: {},
      attributes: {},
      time: e.time,
    };
    const tasks = planFanOut(event, rule).map((t) => ({
      ...t,
      key: canonicalKey(t.tenant, t.taskType, t.entityId),
    }));
    submit(ctx, tasks, () => e.time);
    // The rule's predicted actions and next keys, by the precomputer's own TriggerPredictions.
    const predicted = await predictions!.tasksFor(event, rule, tasks);
    submit(ctx, predicted, (t) => ctx.now() + ctx.latencyMs(t.taskType) * 2);
  };

  /** The readahead job: the keys past sequential runs, taken from the analyzer. */
  const readAhead = async (ctx: PolicyContext, a: Analyzer, spec: ScheduleSpec): Promise<void> => {
    const keys = a.takeReadAhead(spec.limit);
    const tasks = planReadAhead(keys, { ...config.predicted, priority: spec.priority }, anyType, new Map());
    submit(ctx, tasks, () => ctx.now());
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
      const port = inProcessAnalyzer(analyzer);
      predictions = new TriggerPredictions(
        {
          analyzer: {
            ...port,
            predictNextActions: async (r) =>
              (await port.predictNextActions(r)).filter((x) => isUserKeyed(x.action)),
          },
        },
        config,
        { predictionTimeoutMs: precomputerDefaults.predictionTimeoutMs },
        anyType,
        new PrecomputerCounters(),
        new RareWarnings(ctx.clock, silentLog),
      );
      retrain(ctx, analyzer);
      const a = analyzer;
      const offPeak = (t: { windowMinutes: number; timeZone: string }) =>
        a.offPeakWindow({ durationMinutes: t.windowMinutes, timeZone: t.timeZone });
      for (const spec of topSchedules)
        await driveSchedule(ctx, spec, offPeak, async () => {
          await flush(a);
          await topN(ctx, a, spec);
        });
      for (const spec of launchSchedules)
        await driveSchedule(ctx, spec, offPeak, async () => {
          await flush(a);
          await launchWarming(ctx, a, spec);
        });
      for (const spec of refreshSchedules)
        await driveSchedule(ctx, spec, offPeak, async () => refreshAhead(ctx, a, spec));
      for (const spec of readAheadSchedules)
        await driveSchedule(ctx, spec, offPeak, async () => readAhead(ctx, a, spec));
    },
    async onRead(read, outcome, ctx) {
      const a = analyzer!;
      if (read.time - liveWindow >= 1000) {
        liveQps = (liveCount * 1000) / Math.max(1000, read.time - liveWindow);
        liveWindow = read.time;
        liveCount = 0;
      }
      liveCount++;
      // The reporter's timer would have sent what waited its interval before this read.
      if (queries.length > 0 && read.time - queuedSince >= s.reporter.flushIntervalMs) await flush(a);
      if (queries.length === 0) queuedSince = read.time;
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
      if (refresh !== undefined) {
        // The cache's XFetch: a hit close to expiry of a costly result flags it for refresh-ahead.
        const until = outcome.outcome === "hit" ? ctx.cache.freshUntil(read.key) : undefined;
        const beta = env.taskTypes?.has(read.taskType) ? env.taskTypes.get(read.taskType).xfetchBeta : 1;
        if (
          until !== undefined &&
          xfetchRefreshDue(read.time, until, ctx.latencyMs(read.taskType), beta, random)
        )
          refresh.flag({
            key: read.key,
            tenant: read.tenant,
            taskType: read.taskType,
            entityId: read.entity,
          });
      }
      if (queries.length >= s.reporter.batchSize) await flush(a);
    },
    async onEvent(e, ctx) {
      learner.observeEvent(e.tenant, e.entity, e.event, e.anchor);
      await fanOut(e, ctx, analyzer!);
    },
    onStored(key, taskType, expiresAt, _reason, ctx) {
      if (refresh === undefined) return;
      const parts = key.split("/");
      refresh.stored(
        { key, tenant: parts[0] ?? "", taskType, entityId: parts[2] ?? "" },
        expiresAt,
        ctx.ttlMs(taskType),
      );
    },
  };
}
