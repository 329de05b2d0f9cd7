import {
  defaultTaskTypesPath,
  loadTaskTypes,
  ManualClock,
  parseTaskTypes,
  UnavailableError,
} from "@prescient/core";
import { MemoryRunStore } from "../store/memory-run-store.js";
import { parsePrecomputerConfig } from "./config.js";
import type {
  DemandPattern,
  DemandSource,
  DomainEventReport,
  FreshnessSource,
  LearnedRuleView,
  LoadSample,
  OffPeak,
  TaskSink,
  UpcomingLaunch,
} from "./ports.js";
import { Precomputer } from "./precomputer.js";
import type { PrecomputerDeps, PrecomputerOptions } from "./precomputer-deps.js";
import { validateCron } from "./schedule-window.js";
import type { PlannedTask } from "./types.js";

/** In-memory stand-ins for the executor, cache and analyzer, with switches to make them fail. */
export class FakeExecutor implements TaskSink {
  readonly tasks: PlannedTask[] = [];
  down = false;
  #next = 0;

  async enqueueMany(tasks: readonly PlannedTask[]) {
    if (this.down) throw new UnavailableError("connect ECONNREFUSED executor");
    this.tasks.push(...tasks);
    return tasks.map(() => ({ taskId: `t${++this.#next}`, deduplicated: false }));
  }
}

export class FakeCache implements FreshnessSource {
  readonly expiresAt = new Map<string, number>();
  refreshDue: string[] = [];
  down = false;

  async expiries(keys: readonly string[]) {
    if (this.down) throw new UnavailableError("cache down");
    return keys.map((k) => this.expiresAt.get(k));
  }

  async takeRefreshDue(limit: number) {
    if (this.down) throw new UnavailableError("cache down");
    return this.refreshDue.splice(0, limit);
  }
}

export class FakeAnalyzer implements DemandSource {
  patterns: DemandPattern[] = [];
  launches: UpcomingLaunch[] = [];
  actions: Array<{ action: string; probability: number }> = [];
  nextKeys: Array<{ key: string; confidence: number }> = [];
  readAhead: Array<{ key: string; confidence: number }> = [];
  offPeak: OffPeak = { nextStart: Date.parse("2024-05-02T02:00:00Z"), durationMinutes: 60 };
  down = false;
  calls: string[] = [];

  #check(name: string): void {
    this.calls.push(name);
    if (this.down) throw new UnavailableError("connect ECONNREFUSED analyzer");
  }
  async topPatterns(r: { limit: number; taskType?: string; tenant?: string }) {
    this.#check("topPatterns");
    return this.patterns.filter((p) => (r.taskType ? p.taskType === r.taskType : true)).slice(0, r.limit);
  }
  async offPeakWindow() {
    this.#check("offPeakWindow");
    return this.offPeak;
  }
  async upcomingLaunches() {
    this.#check("upcomingLaunches");
    return this.launches;
  }
  async predictNextActions() {
    this.#check("predictNextActions");
    return this.actions;
  }
  async predictNextKeys() {
    this.#check("predictNextKeys");
    return this.nextKeys;
  }
  /** The floors takes named, in order. Keys below them are handed out all the same, as an analyzer from before the field does. */
  readonly readAheadFloors: number[] = [];
  async takeReadAhead(limit: number, minConfidence: number) {
    this.#check("takeReadAhead");
    this.readAheadFloors.push(minConfidence);
    return this.readAhead.splice(0, limit);
  }
  async retrainNextAction() {
    this.#check("retrainNextAction");
    return "kept the current model";
  }
  async cleanup() {
    this.#check("cleanup");
    return 3;
  }
  readonly events: DomainEventReport[] = [];
  learned: LearnedRuleView[] = [];
  /** `${tenant}/${subject}/${taskType}` → related entity ids. */
  related = new Map<string, string[]>();
  async recordEvents(events: readonly DomainEventReport[]) {
    this.#check("recordEvents");
    this.events.push(...events);
  }
  async learnedRules() {
    this.#check("learnedRules");
    return this.learned;
  }
  async relatedEntities(r: { tenant: string; subject: string; limit: number; taskType: string }) {
    this.#check("relatedEntities");
    return (this.related.get(`${r.tenant}/${r.subject}/${r.taskType}`) ?? []).slice(0, r.limit);
  }
}

export const shippedTaskTypes = loadTaskTypes(defaultTaskTypesPath);

export interface Harness {
  core: Precomputer;
  clock: ManualClock;
  executor: FakeExecutor;
  cache: FakeCache;
  analyzer: FakeAnalyzer;
  runs: MemoryRunStore;
  load: LoadSample;
}

/** A Precomputer over fakes, on a ManualClock, with the shipped or a given configuration. */
export function harness(
  options: {
    yaml?: string;
    start?: number;
    deps?: Partial<PrecomputerDeps>;
    core?: Partial<PrecomputerOptions>;
  } = {},
): Harness {
  const registry = options.yaml ? parseTaskTypes(options.yaml) : shippedTaskTypes;
  const clock = new ManualClock(options.start ?? Date.parse("2024-05-01T12:00:00Z"));
  const executor = new FakeExecutor();
  const cache = new FakeCache();
  const analyzer = new FakeAnalyzer();
  const runs = new MemoryRunStore();
  const load: LoadSample = {};
  const core = new Precomputer(
    {
      taskTypes: registry,
      config: parsePrecomputerConfig(registry.raw, registry, validateCron),
      executor,
      cache,
      analyzer,
      runs,
      load: { sample: async () => ({ ...load }) },
      clock,
      owner: "test",
      ...options.deps,
    },
    { loadMaxAgeMs: 0, ...options.core },
  );
  return { core, clock, executor, cache, analyzer, runs, load };
}
