import { randomUUID } from "node:crypto";
import {
  type Clock,
  errorMessage,
  formatKey,
  InvalidArgumentError,
  isDomainError,
  NotFoundError,
  ResourceExhaustedError,
  systemClock,
  type TaskTypeRegistry,
  UnavailableError,
  validateEntityId,
  validateTenant,
} from "@prescient/core";
import { type Alert, evaluateAlerts } from "./alerts.js";
import { Budget, type BudgetUsage } from "./budget.js";
import { usableKeys } from "./candidates.js";
import type { PrecomputerConfig, ScheduleSpec, TriggerRule } from "./config.js";
import { type CountersSnapshot, PrecomputerCounters } from "./counters.js";
import { planFanOut, subjectOf, validateEvent } from "./fan-out.js";
import { planLaunchWarming } from "./launch-warming.js";
import {
  type DemandSource,
  type FreshnessSource,
  type LoadProbe,
  type LoadSample,
  noLoad,
  type PrecomputerLog,
  silentLog,
  type TaskSink,
} from "./ports.js";
import { planPredicted } from "./predicted.js";
import { planRefreshAhead, type RefreshCandidate, refreshHorizonMs } from "./refresh-ahead.js";
import type { RunRecord, RunStore } from "./run-store.js";
import {
  type JobContext,
  type JobResult,
  type RunOutcome,
  ScheduleCoordinator,
} from "./schedule-coordinator.js";
import { manualRunKey, runKeyOf, windowFor } from "./schedule-window.js";
import { selectTopN } from "./top-n.js";
import { addCount, type Counts, type PlannedTask, skipReasons, type TriggerEvent } from "./types.js";

/**
 * The precomputer's core: triggers, warm and refresh calls, and the jobs of
 * its schedules, over ports to the executor, the cache and the analyzer, an
 * injected clock and a run store. It imports neither gRPC nor Redis: the
 * service adapts requests to it, and the evaluator runs it on virtual time.
 */
export interface PrecomputerDeps {
  taskTypes: TaskTypeRegistry;
  config: PrecomputerConfig;
  executor: TaskSink;
  cache: FreshnessSource;
  analyzer: DemandSource;
  runs: RunStore;
  /** Live load for the budget's back-off. Default: none (never backs off). */
  load?: LoadProbe;
  /**
   * Upserts features without enqueueing, when the executor offers it (in
   * process). Without it, a fresh-skipped entity's features ride on one task
   * that is then not skipped, so they are never lost.
   */
  upsertFeatures?: (
    records: Array<{ tenant: string; entityId: string; features: PlannedTask["features"] & object }>,
  ) => Promise<void>;
  clock?: Clock;
  log?: PrecomputerLog;
  /** This replica's name in run records. Default: a random id. */
  owner?: string;
}

export interface PrecomputerOptions {
  /** Most events in one TriggerMany. Default 1000. */
  maxEvents: number;
  /** Most tasks one call may enqueue (one all-or-nothing EnqueueMany). Default 10,000. */
  maxTasksPerCall: number;
  /** Keys per freshness lookup (the cache's LookupMany limit). Default 1000. */
  freshnessBatch: number;
  /** How long a trigger waits for the analyzer's predictions before going without. Default 250 ms. */
  predictionTimeoutMs: number;
  /** How long a load sample is reused. Default 1000 ms. */
  loadMaxAgeMs: number;
}

export const precomputerDefaults: Readonly<PrecomputerOptions> = {
  maxEvents: 1000,
  maxTasksPerCall: 10_000,
  freshnessBatch: 1000,
  predictionTimeoutMs: 250,
  loadMaxAgeMs: 1000,
};

export interface QueuedByType {
  taskType: string;
  taskIds: string[];
}

export interface TriggerOutcome {
  queued: QueuedByType[];
  /** Task types skipped because their result was already fresh. */
  skippedFresh: string[];
}

export interface WarmRequest {
  tenant: string;
  entityIds: readonly string[];
  taskTypes: readonly string[];
  /** 0 or undefined takes each type's default. */
  priority?: number;
}

export interface RefreshRequest {
  taskType: string;
  tenant?: string;
  entityPrefix?: string;
}

export interface PrecomputerStats extends CountersSnapshot {
  budget: BudgetUsage;
  load: LoadSample;
  alerts: Alert[];
}

/** Skip reason when the analyzer did not answer a trigger's prediction in time. */
export const analyzerUnavailable = "analyzer_unavailable";
/** Skip reason when the cache could not say what is fresh (nothing was skipped). */
export const freshnessUnknown = "freshness_unknown";

export class Precomputer {
  readonly options: PrecomputerOptions;
  readonly config: PrecomputerConfig;
  readonly counters = new PrecomputerCounters();
  readonly budget: Budget;
  readonly coordinator: ScheduleCoordinator;
  readonly #d: PrecomputerDeps;
  readonly #clock: Clock;
  readonly #log: PrecomputerLog;
  readonly #isTaskType: (name: string) => boolean;
  #load: { at: number; sample: LoadSample } | undefined;
  #lastWarned = new Map<string, number>();

  constructor(deps: PrecomputerDeps, options?: Partial<PrecomputerOptions>) {
    this.options = { ...precomputerDefaults, ...options };
    this.#d = deps;
    this.config = deps.config;
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.log ?? silentLog;
    this.budget = new Budget(this.#clock, deps.config.budget);
    this.coordinator = new ScheduleCoordinator(
      deps.runs,
      this.#clock,
      deps.owner ?? `precomputer-${randomUUID().slice(0, 8)}`,
      this.#log,
    );
    this.#isTaskType = (name) => deps.taskTypes.has(name);
  }

  get runs(): RunStore {
    return this.#d.runs;
  }

  // ---- triggers -----------------------------------------------------------

  async trigger(event: TriggerEvent): Promise<TriggerOutcome> {
    const [outcome] = await this.#triggerAll([event], "event");
    return outcome ?? { queued: [], skippedFresh: [] };
  }

  async triggerMany(events: readonly TriggerEvent[]): Promise<TriggerOutcome[]> {
    if (events.length === 0) throw new InvalidArgumentError("events is empty");
    if (events.length > this.options.maxEvents)
      throw new ResourceExhaustedError(
        `${events.length} events in one TriggerMany; the limit is ${this.options.maxEvents}`,
      );
    return this.#triggerAll(events, "events");
  }

  async #triggerAll(events: readonly TriggerEvent[], field: string): Promise<TriggerOutcome[]> {
    const many = field === "events";
    const rules = events.map((e, i) => validateEvent(e, this.config.rules, many ? `events[${i}]` : field));
    const fanned = events.map((e, i) => planFanOut(e, rules[i] as TriggerRule));
    const predicted = await Promise.all(
      events.map((e, i) => this.#predictFor(e, rules[i] as TriggerRule, fanned[i] ?? [])),
    );
    const perEvent = fanned.map((tasks, i) => [...tasks, ...(predicted[i] ?? [])]);
    const total = perEvent.reduce((n, t) => n + t.length, 0);
    if (total > this.options.maxTasksPerCall)
      throw new ResourceExhaustedError(
        `the events fan out to ${total} tasks; the limit is ${this.options.maxTasksPerCall} per call`,
      );

    // Fresh results are skipped (the rule allows it); the skipped task types are reported per event.
    const checkable = perEvent.flatMap((tasks, i) => (rules[i]?.skipFresh ? tasks : []));
    const fresh = await this.#freshKeys(
      checkable.map((t) => t.key),
      0,
    );
    const skippedFresh: string[][] = perEvent.map(() => []);
    const upserts: Array<{
      tenant: string;
      entityId: string;
      features: NonNullable<PlannedTask["features"]>;
    }> = [];
    const kept = perEvent.map((tasks, i) =>
      tasks.filter((t) => {
        if (!fresh.has(t.key)) return true;
        if (t.features !== undefined) {
          if (this.#d.upsertFeatures === undefined) return true; // keeps the features: see PrecomputerDeps.upsertFeatures
          upserts.push({ tenant: t.tenant, entityId: t.entityId, features: t.features });
        }
        skippedFresh[i]?.push(t.taskType);
        return false;
      }),
    );
    this.counters.skipped(
      skipReasons.fresh,
      skippedFresh.reduce((n, s) => n + s.length, 0),
    );

    const ids = await this.#enqueue(kept.flat(), upserts);
    return kept.map((tasks, i) => {
      const byType = new Map<string, string[]>();
      for (const t of tasks) {
        const id = ids.get(t);
        if (id === undefined) continue; // deferred by the budget (predicted work only)
        const list = byType.get(t.taskType) ?? [];
        list.push(id);
        byType.set(t.taskType, list);
      }
      return {
        queued: [...byType].map(([taskType, taskIds]) => ({ taskType, taskIds })),
        skippedFresh: skippedFresh[i] ?? [],
      };
    });
  }

  /** The predicted-action and next-key tasks of one event, or none when the analyzer is slow or down. */
  async #predictFor(
    event: TriggerEvent,
    rule: TriggerRule,
    fanned: readonly PlannedTask[],
  ): Promise<PlannedTask[]> {
    if (!rule.predictNextActions && !rule.predictNextKeys) return [];
    const s = this.config.predicted;
    const user = event.userId !== "" ? event.userId : subjectOf(event, "entity");
    try {
      const [actions, keys] = await this.#withTimeout(
        Promise.all([
          rule.predictNextActions && event.userId !== ""
            ? this.#d.analyzer.predictNextActions({
                tenant: event.tenant,
                userId: event.userId,
                limit: s.limit,
              })
            : Promise.resolve([]),
          rule.predictNextKeys
            ? Promise.all(fanned.map((t) => this.#d.analyzer.predictNextKeys(t.key, s.limit))).then((k) =>
                k.flat(),
              )
            : Promise.resolve([]),
        ]),
        this.options.predictionTimeoutMs,
        "the analyzer's predictions",
      );
      const plan = planPredicted(
        { tenant: event.tenant, subject: user, actions, keys },
        s,
        this.config.rules,
        this.#isTaskType,
      );
      this.counters.skippedAll(plan.skipped);
      const already = new Set(fanned.map((t) => t.key));
      return plan.tasks.filter((t) => !already.has(t.key));
    } catch (e) {
      this.counters.skipped(analyzerUnavailable);
      this.#warnRarely(
        "predict",
        { err: errorMessage(e) },
        "analyzer unavailable: triggers fan out without predicted actions",
      );
      return [];
    }
  }

  // ---- warm and refresh ---------------------------------------------------

  /** Enqueues the given entities × task types now (reason `manual`), fresh or not. */
  async warm(request: WarmRequest): Promise<QueuedByType[]> {
    const tenant = named("tenant", () => validateTenant(request.tenant));
    if (request.entityIds.length === 0) throw new InvalidArgumentError("entity_ids is empty");
    if (request.taskTypes.length === 0) throw new InvalidArgumentError("task_types is empty");
    const n = request.entityIds.length * request.taskTypes.length;
    if (n > this.options.maxTasksPerCall)
      throw new ResourceExhaustedError(
        `warm asks for ${n} tasks; the limit is ${this.options.maxTasksPerCall}`,
      );
    const priority = request.priority ?? 0;
    if (!Number.isInteger(priority) || priority < 0 || priority > 10)
      throw new InvalidArgumentError(`priority ${priority} is outside 1..10 (0 takes each type's default)`);
    const types = request.taskTypes.map((t, i) => named(`task_types[${i}]`, () => this.#d.taskTypes.get(t)));
    request.entityIds.forEach((e, i) => {
      named(`entity_ids[${i}]`, () => validateEntityId(e));
    });
    const tasks: PlannedTask[] = [];
    const seen = new Set<string>();
    for (const type of types)
      for (const entityId of request.entityIds) {
        const key = formatKey({ tenant, taskType: type.name, entityId });
        if (seen.has(key)) continue;
        seen.add(key);
        tasks.push({
          key,
          tenant,
          taskType: type.name,
          entityId,
          priority: priority || type.defaultPriority,
          reason: "manual",
        });
      }
    const ids = await this.#enqueue(tasks, []);
    return groupIds(tasks, ids);
  }

  /**
   * Re-enqueues the known entities of a task type (reason `refresh`): the
   * keys the analyzer has seen asked for, optionally of one tenant and with
   * an entity-id prefix. A call by hand: the budget does not apply.
   */
  async refresh(request: RefreshRequest): Promise<number> {
    const type = named("task_type", () => this.#d.taskTypes.get(request.taskType));
    const tenant = request.tenant ? named("tenant", () => validateTenant(request.tenant ?? "")) : undefined;
    const patterns = await this.#analyzer(() =>
      this.#d.analyzer.topPatterns({
        limit: this.config.refreshAhead.candidates,
        taskType: type.name,
        ...(tenant !== undefined ? { tenant } : {}),
      }),
    );
    const skipped: Counts = new Map();
    const prefix = request.entityPrefix ?? "";
    const tasks = usableKeys(patterns, this.#isTaskType, skipped)
      .filter((p) => p.entityId.startsWith(prefix))
      .map(
        (p): PlannedTask => ({
          key: p.key,
          tenant: p.tenant,
          taskType: p.taskType,
          entityId: p.entityId,
          priority: this.config.refreshAhead.priority,
          reason: "refresh",
        }),
      );
    this.counters.skippedAll(skipped);
    const ids = await this.#enqueue(tasks, [], { bypassBudget: true });
    return ids.size;
  }

  // ---- schedules ----------------------------------------------------------

  scheduleNames(): string[] {
    return [...this.config.schedules.keys()];
  }

  #spec(name: string): ScheduleSpec {
    const spec = this.config.schedules.get(name);
    if (spec === undefined)
      throw new NotFoundError(
        `no schedule ${JSON.stringify(name.slice(0, 80))}; configured: ${this.scheduleNames().join(", ") || "(none)"}`,
      );
    return spec;
  }

  /**
   * Runs the schedule's current window if it is due and no replica has run
   * it. Answers undefined when it is not due (off-peak, outside the window,
   * or the analyzer cannot say when that is).
   */
  async tick(name: string): Promise<RunOutcome | undefined> {
    const spec = this.#spec(name);
    if (!spec.enabled) return undefined;
    const now = this.#clock.now();
    let offPeak: Awaited<ReturnType<DemandSource["offPeakWindow"]>> | undefined;
    if (spec.timing.kind === "off_peak") {
      try {
        offPeak = await this.#d.analyzer.offPeakWindow({
          durationMinutes: spec.timing.windowMinutes,
          timeZone: spec.timing.timeZone,
        });
      } catch (e) {
        this.#warnRarely(
          `offpeak:${name}`,
          { schedule: name, err: errorMessage(e) },
          "analyzer unavailable: cannot tell the off-peak window; checking again later",
        );
        return undefined;
      }
    }
    const window = windowFor(spec.timing, now, offPeak);
    if (window === undefined) return undefined;
    return this.coordinator.run(spec, runKeyOf(name, window.start), window.start, (ctx) =>
      this.#job(spec, ctx),
    );
  }

  /** Starts a run by hand, in a window of its own; answers the finished run. */
  async runScheduleNow(name: string): Promise<RunRecord> {
    const spec = this.#spec(name);
    const now = this.#clock.now();
    const key = manualRunKey(name, now, randomUUID().slice(0, 8));
    const outcome = await this.coordinator.run({ ...spec, maxAttempts: 1 }, key, now, (ctx) =>
      this.#job(spec, ctx),
    );
    return outcome.record;
  }

  async listRuns(schedule: string | undefined, limit: number): Promise<RunRecord[]> {
    if (schedule !== undefined && schedule !== "") this.#spec(schedule);
    const n = limit === 0 ? 50 : limit;
    if (!Number.isInteger(n) || n < 0 || n > 1000)
      throw new InvalidArgumentError("limit must be from 0 to 1000 (0 means 50)");
    return this.#d.runs.list({ ...(schedule ? { schedule } : {}), limit: n });
  }

  async #job(spec: ScheduleSpec, ctx: JobContext): Promise<JobResult> {
    const skipped: Counts = new Map();
    const done = async (tasks: PlannedTask[], note: string): Promise<JobResult> => {
      this.counters.skippedAll(skipped);
      if (ctx.signal.aborted) throw new Error("lease lost before enqueueing");
      const ids = await this.#enqueue(tasks, []);
      const deferred = tasks.length - ids.size;
      return {
        items: ids.size,
        note: `${note}; ${ids.size} enqueued${deferred > 0 ? `, ${deferred} deferred by the budget` : ""}${describe(skipped)}`,
      };
    };
    switch (spec.job) {
      case "top_n": {
        const patterns = await this.#analyzer(() =>
          this.#d.analyzer.topPatterns({
            limit: spec.limit,
            ...(spec.taskType !== undefined ? { taskType: spec.taskType } : {}),
            ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
          }),
        );
        const top = selectTopN(
          patterns,
          { limit: spec.limit, priority: spec.priority, tenantWeight: (t) => this.budget.weightOf(t) },
          this.#isTaskType,
          skipped,
        );
        // Keys fresh beyond their refresh horizon need nothing now.
        const now = this.#clock.now();
        const expiries = await this.#expiries(top.map((t) => t.key));
        const due = top.filter((t, i) => {
          const exp = expiries?.[i];
          const stillFresh =
            exp !== undefined &&
            exp - now > refreshHorizonMs(this.#d.taskTypes.get(t.taskType).ttlMs, this.config.refreshAhead);
          if (stillFresh) addCount(skipped, skipReasons.fresh);
          return !stillFresh;
        });
        return done(due, `top ${top.length} of ${patterns.length} ranked keys`);
      }
      case "launch_warming": {
        const launches = await this.#analyzer(() => this.#d.analyzer.upcomingLaunches(spec.hoursAhead));
        const defaults =
          spec.taskTypes.length > 0
            ? spec.taskTypes
            : ((
                this.config.rules.get("campaign_launch_scheduled") ??
                this.config.rules.get("campaign_created")
              )?.targets.map((t) => t.taskType) ?? []);
        const tasks = planLaunchWarming(
          launches,
          {
            now: this.#clock.now(),
            hoursAhead: spec.hoursAhead,
            leadMs: spec.leadMs,
            priority: spec.priority,
            defaultTaskTypes: defaults,
          },
          this.#d.taskTypes,
          skipped,
        );
        return done(tasks, `${launches.length} launches within ${spec.hoursAhead} h`);
      }
      case "refresh_ahead":
        return done(await this.#planRefresh(spec, skipped), "refresh-ahead");
      case "analysis": {
        const summary = spec.retrain
          ? await this.#analyzer(() => this.#d.analyzer.retrainNextAction())
          : "retraining off";
        return { items: 0, note: summary };
      }
      case "cleanup": {
        const removed = await this.#analyzer(() => this.#d.analyzer.cleanup());
        return { items: removed, note: `${removed} old records removed` };
      }
    }
  }

  async #planRefresh(spec: ScheduleSpec, skipped: Counts): Promise<PlannedTask[]> {
    const s = this.config.refreshAhead;
    const flaggedKeys =
      s.refreshDueLimit > 0
        ? await this.#d.cache.takeRefreshDue(s.refreshDueLimit).catch((e: unknown) => {
            this.#warnRarely(
              "refresh-due",
              { err: errorMessage(e) },
              "cache unavailable: no XFetch-flagged keys this run",
            );
            return [] as string[];
          })
        : [];
    const flagged = usableKeys(
      flaggedKeys.map((key) => ({ key })),
      this.#isTaskType,
      skipped,
    );
    const patterns = await this.#analyzer(() =>
      this.#d.analyzer.topPatterns({
        limit: s.candidates,
        ...(spec.taskType !== undefined ? { taskType: spec.taskType } : {}),
        ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
      }),
    );
    const hot = usableKeys(patterns, this.#isTaskType, skipped);
    const expiries = await this.#expiries(hot.map((p) => p.key));
    if (expiries === undefined)
      throw new UnavailableError("cache unavailable: cannot tell which hot keys are near expiry");
    const candidates: RefreshCandidate[] = hot.map((p, i) => ({
      key: p.key,
      tenant: p.tenant,
      taskType: p.taskType,
      entityId: p.entityId,
      demand: p.demand,
      expiresAt: expiries[i],
      ttlMs: this.#d.taskTypes.get(p.taskType).ttlMs,
    }));
    return planRefreshAhead(candidates, flagged, this.#clock.now(), s, skipped);
  }

  // ---- shared paths -------------------------------------------------------

  /**
   * Budget, then one all-or-nothing enqueue. Answers the task id of each
   * enqueued task; tasks the budget deferred are counted and get none. A
   * failing executor answers UNAVAILABLE, and the budget is refunded.
   */
  async #enqueue(
    tasks: PlannedTask[],
    upserts: NonNullable<Parameters<NonNullable<PrecomputerDeps["upsertFeatures"]>>[0]>,
    options: { bypassBudget?: boolean } = {},
  ): Promise<Map<PlannedTask, string>> {
    const ids = new Map<PlannedTask, string>();
    let admitted = tasks;
    if (!options.bypassBudget && tasks.some((t) => this.budget.isBackground(t.reason))) {
      const admission = this.budget.admit(tasks, await this.sampleLoad());
      admitted = admission.admitted;
      this.counters.skippedAll(admission.deferred);
    }
    if (admitted.length === 0 && upserts.length === 0) return ids;
    if (admitted.length > this.options.maxTasksPerCall)
      throw new ResourceExhaustedError(
        `${admitted.length} tasks in one call; the limit is ${this.options.maxTasksPerCall}`,
      );
    let results: Awaited<ReturnType<TaskSink["enqueueMany"]>> = [];
    try {
      if (upserts.length > 0 && this.#d.upsertFeatures) await this.#d.upsertFeatures(upserts);
      if (admitted.length > 0) results = await this.#d.executor.enqueueMany(admitted);
    } catch (e) {
      if (!options.bypassBudget) this.budget.refund(admitted);
      if (isDomainError(e) && e.kind !== "unavailable") throw e;
      throw new UnavailableError(`executor unavailable, nothing was enqueued: ${errorMessage(e)}`);
    }
    admitted.forEach((t, i) => {
      const r = results[i];
      if (r === undefined) return;
      ids.set(t, r.taskId);
      this.counters.enqueued(t.reason, t.taskType);
    });
    return ids;
  }

  /** Keys whose stored result is still fresh now. A failing cache skips nothing. */
  async #freshKeys(keys: readonly string[], marginMs: number): Promise<Set<string>> {
    const fresh = new Set<string>();
    if (keys.length === 0) return fresh;
    const expiries = await this.#expiries(keys);
    if (expiries === undefined) {
      this.counters.skipped(freshnessUnknown);
      return fresh;
    }
    const now = this.#clock.now();
    keys.forEach((k, i) => {
      const e = expiries[i];
      if (e !== undefined && e - now > marginMs) fresh.add(k);
    });
    return fresh;
  }

  async #expiries(keys: readonly string[]): Promise<(number | undefined)[] | undefined> {
    try {
      const out: (number | undefined)[] = [];
      for (let i = 0; i < keys.length; i += this.options.freshnessBatch)
        out.push(...(await this.#d.cache.expiries(keys.slice(i, i + this.options.freshnessBatch))));
      return out;
    } catch (e) {
      this.#warnRarely(
        "freshness",
        { err: errorMessage(e) },
        "cache unavailable: cannot tell what is fresh; nothing is skipped",
      );
      return undefined;
    }
  }

  /** An analyzer call of a schedule job; its failure fails the run, which is retried later. */
  async #analyzer<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (isDomainError(e) && e.kind === "invalid_argument") throw e;
      throw new UnavailableError(`analyzer unavailable: ${errorMessage(e)}`);
    }
  }

  /** The live load, sampled at most once per `loadMaxAgeMs`; a failing probe reads as no signal. */
  async sampleLoad(): Promise<LoadSample> {
    const now = this.#clock.now();
    if (this.#load !== undefined && now - this.#load.at < this.options.loadMaxAgeMs) return this.#load.sample;
    let sample: LoadSample = {};
    try {
      sample = await (this.#d.load ?? noLoad).sample();
    } catch (e) {
      this.#warnRarely(
        "load",
        { err: errorMessage(e) },
        "load probe failed; budget runs without load signals",
      );
    }
    this.#load = { at: now, sample };
    return sample;
  }

  async stats(): Promise<PrecomputerStats> {
    const load = await this.sampleLoad();
    return {
      ...this.counters.snapshot(),
      budget: this.budget.usage(),
      load,
      alerts: evaluateAlerts(load, this.config.alerts),
    };
  }

  #withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UnavailableError(`${what} took longer than ${ms} ms`)), ms);
      timer.unref();
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  /** Logs a warning at most once a minute per topic, so an outage does not flood the log. */
  #warnRarely(topic: string, obj: object, msg: string): void {
    const now = this.#clock.now();
    const last = this.#lastWarned.get(topic);
    if (last !== undefined && now - last < 60_000) return;
    this.#lastWarned.set(topic, now);
    this.#log.warn(obj, msg);
  }
}

function named<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (isDomainError(e) && e.kind === "invalid_argument")
      throw new InvalidArgumentError(`${field}: ${e.message}`);
    throw e;
  }
}

function groupIds(tasks: readonly PlannedTask[], ids: ReadonlyMap<PlannedTask, string>): QueuedByType[] {
  const byType = new Map<string, string[]>();
  for (const t of tasks) {
    const id = ids.get(t);
    if (id === undefined) continue;
    const list = byType.get(t.taskType) ?? [];
    list.push(id);
    byType.set(t.taskType, list);
  }
  return [...byType].map(([taskType, taskIds]) => ({ taskType, taskIds }));
}

function describe(skipped: Counts): string {
  if (skipped.size === 0) return "";
  return `; skipped ${[...skipped].map(([r, n]) => `${n} ${r}`).join(", ")}`;
}
