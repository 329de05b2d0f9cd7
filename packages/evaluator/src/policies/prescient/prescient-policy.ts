import {
  type ActionEventInput,
  Analyzer,
  emptyIngestResult,
  MemoryAnalyzerStore,
  type QueryEventInput,
} from "@prescient/analyzer";
import { InvalidArgumentError, mulberry32, TaskTypeRegistry, xfetchRefreshDue } from "@prescient/core";
import {
  inProcessAnalyzer,
  MemoryRunStore,
  Precomputer,
  type PrecomputerConfig,
  parsePrecomputerConfig,
  ScheduleRunner,
  silentLog,
} from "@prescient/precomputer";
import type { TypeTable } from "../../sim/options.js";
import type { Policy } from "../../sim/policy.js";
import { actionOfRead, launchOfEvent } from "../../trace/backend-calls.js";
import { MemoryModelPublisher, SparseScorer } from "./model-ports.js";
import { type PrescientSettings, prescientDefaults } from "./settings.js";
import {
  SimulatedCache,
  SimulatedFeatures,
  SimulatedLoad,
  simulatedExecutor,
  simulatedTypes,
  virtualTimers,
} from "./simulated-ports.js";

/**
 * `prescient`: the mesh itself under the virtual clock. The analyzer core
 * (memory store) and the precomputer core with its schedule runner are the
 * services' own, wired as `prescient up` wires them; only their ports are
 * simulated (simulated-ports.ts): the executor's queue and compute, the
 * cache, the load and the timers. What this file adds is what the cache and
 * the backends do in front of them: the cache's query reporter (batches of
 * reads to the analyzer), its XFetch flags on hits, user actions, and
 * triggers and launch registrations for the trace's events. A test
 * (one-engine.test.ts) keeps policy out of here.
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
  // The precomputer parses its configuration against the replay's TTLs (the trace's types
  // and --ttl included), as the live one parses against the declared ones.
  const types = simulatedTypes(
    [...registry.list().map((t) => t.name), ...env.types.types()],
    registry,
    ttlOf,
  );
  const parsed = parsePrecomputerConfig(registry.raw, types);
  let analyzer: Analyzer | undefined;
  let precomputer: Precomputer | undefined;
  let cache: SimulatedCache | undefined;
  const load = new SimulatedLoad();
  let queries: QueryEventInput[] = [];
  /** When the oldest query waiting for the analyzer was read. */
  let queuedSince = 0;
  let actions: ActionEventInput[] = [];
  const features = new SimulatedFeatures((t) => registry.has(t) && registry.get(t).kind === "onnx");

  /** The cache's query reporter sending its batch, and the backends' actions. */
  const flush = async (a: Analyzer): Promise<void> => {
    queuedSince = Number.NaN;
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

  return {
    name: "prescient",
    caches: true,
    lookaheadMs: 0,
    async start(ctx) {
      // The precomputer's budget is the replay's: every policy gets the same rate and burst, and
      // all ahead-of-time work (triggers too) is paid from it, as the simulation's bucket counts it.
      const perMinute = ctx.budget.perSecond * 60;
      const config: PrecomputerConfig = {
        ...parsed,
        budget: {
          ...parsed.budget,
          perMinute,
          burstMinutes: perMinute > 0 ? ctx.budget.burst / perMinute : 1,
          chargeForeground: true,
        },
      };
      const a = new Analyzer(
        {
          store: new MemoryAnalyzerStore(),
          publisher: new MemoryModelPublisher(),
          scorer: new SparseScorer(),
        },
        { clock: ctx.clock, maxActionsPerUser: 32, maxUsers: 20_000, daysToKeep: 3650, ...s.analyzer },
      );
      analyzer = a;
      await a.start();
      const c = new SimulatedCache(ctx);
      cache = c;
      const p = new Precomputer({
        taskTypes: types,
        config,
        executor: simulatedExecutor(ctx),
        cache: c,
        analyzer: inProcessAnalyzer(a),
        runs: new MemoryRunStore(),
        load,
        featuresStored: features.stored,
        clock: ctx.clock,
        owner: "replay",
      });
      precomputer = p;
      await new ScheduleRunner(p, silentLog, ctx.clock, {
        timers: virtualTimers(ctx),
        onRun: () => {},
      }).start();
    },
    async onRead(read, outcome, ctx) {
      const a = analyzer!;
      load.read(read.time);
      if (outcome.outcome === "miss") features.missed(read.tenant, read.taskType, read.entity);
      if (queries.length === 0) {
        // The reporter's timer: what waits is sent once the oldest has waited the interval.
        const since = read.time;
        queuedSince = since;
        ctx.at(since + s.reporter.flushIntervalMs, () => (queuedSince === since ? flush(a) : undefined));
      }
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
      const action = actionOfRead(read);
      if (action !== undefined)
        actions.push({
          time: new Date(action.time),
          tenant: action.tenant,
          userId: action.userId,
          action: action.action,
          attributes: {},
        });
      // The cache's XFetch: a hit close to expiry of a costly result flags it for refresh-ahead.
      const until = outcome.outcome === "hit" ? ctx.cache.freshUntil(read.key) : undefined;
      const beta = env.taskTypes?.has(read.taskType) ? env.taskTypes.get(read.taskType).xfetchBeta : 1;
      if (
        until !== undefined &&
        xfetchRefreshDue(read.time, until, ctx.latencyMs(read.taskType), beta, random)
      )
        cache!.flag(read.key);
      if (queries.length >= s.reporter.batchSize) await flush(a);
    },
    async onEvent(e) {
      const p = precomputer!;
      const launch = launchOfEvent(e);
      if (launch !== undefined) {
        // A launch announced ahead: the backend registers it with the analyzer, for launch warming.
        try {
          await analyzer!.registerLaunch({
            id: "",
            tenant: launch.tenant,
            campaignId: launch.campaignId,
            launchAt: new Date(launch.launchAt),
            entityIds: launch.entityIds,
            // The precomputer warms the task types of the event's rule, as of each warming run.
            taskTypes: [],
            event: launch.event,
          });
        } catch (err) {
          // The analyzer refuses what it cannot key (as RegisterLaunch would): nothing to warm.
          if (!(err instanceof InvalidArgumentError)) throw err;
        }
        return;
      }
      // A trigger carries its entity's features (the live replay sends them with each); a launch does not.
      features.triggered(e.tenant, e.entity);
      try {
        await p.trigger({
          type: e.event,
          tenant: e.tenant,
          entityId: e.entity,
          userId: e.user,
          features: {},
          attributes: {},
          time: e.time,
        });
      } catch (err) {
        // A trace event the precomputer refuses (as Trigger would answer INVALID_ARGUMENT) triggers nothing.
        if (!(err instanceof InvalidArgumentError)) throw err;
      }
    },
    onStored(key, taskType, expiresAt) {
      cache!.stored(key, taskType, expiresAt);
    },
  };
}
