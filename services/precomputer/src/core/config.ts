import { InvalidArgumentError, type TaskTypeRegistry } from "@prescient/core";
import { z } from "zod";
import type { BudgetOptions } from "./budget.js";
import { parseDuration } from "./duration.js";
import { refreshPeriodMs } from "./refresh-ahead.js";
import type { TaskReason } from "./types.js";

/**
 * The precomputer's sections of the shared configuration file
 * (config/task-types.yaml): `rules:` (event → task types), `schedules:`
 * (named jobs with a cron, an interval or the off-peak window) and
 * `precomputer:` (refresh-ahead, predicted precompute, budget, alerts).
 * Validated at start-up against the declared task types, with every problem
 * named by its path.
 */

const durationSchema = z.union([z.string(), z.number()]);
const priority = z.number().int().min(1).max(10);
/** Related entities per `related` target when none is named. */
export const defaultRelatedLimit = 3;
/** `related`: how many of the user's related entities. */
const relatedLimit = z.number().int().min(1).max(50).default(defaultRelatedLimit);

/** A target given by its task type's name alone takes every default: `[a]` is `[{ task_type: a }]`. */
function byName<T extends z.ZodType>(target: T) {
  return z.preprocess((v) => (typeof v === "string" ? { task_type: v } : v), target);
}

const targetSchema = byName(
  z
    .object({
      task_type: z.string(),
      priority: priority.optional(),
      /**
       * Which id of the event keys the result: the entity (default; the user when the event has none),
       * the user, or `related`: the entities the analyzer relates most strongly to the user.
       */
      key_by: z.enum(["entity", "user", "related"]).default("entity"),
      related_limit: relatedLimit,
    })
    .strict(),
);

/**
 * A predicted action's task type. A predicted action has no entity yet, so its result is keyed by
 * the acting user (default), or by `related`: the user's most related entities of the kind the
 * type is read for (view_campaign → the analytics of the campaigns the user manages).
 */
const predictedTargetSchema = byName(
  z
    .object({
      task_type: z.string(),
      key_by: z.enum(["user", "related"]).default("user"),
      related_limit: relatedLimit,
    })
    .strict(),
);

const ruleSchema = z
  .object({
    task_types: z.array(targetSchema).default([]),
    priority: priority.optional(),
    /** Consult PredictNextActions for the event's user and enqueue the likely actions' task types. */
    predict_next_actions: z.boolean().default(false),
    /** Consult PredictNextKeys for each fanned-out key. */
    predict_next_keys: z.boolean().default(false),
    /**
     * Skip task types whose result is already fresh in the cache. Keys of a
     * kind whose lookups almost never find one are looked up by sample
     * (PrecomputerOptions.freshPeeks), so such a key may be computed again.
     */
    skip_fresh: z.boolean().default(true),
    description: z.string().default(""),
  })
  .strict();

const jobs = ["top_n", "launch_warming", "analysis", "cleanup", "refresh_ahead", "readahead"] as const;
export type ScheduleJob = (typeof jobs)[number];

const scheduleSchema = z
  .object({
    job: z.enum(jobs),
    /** A cron pattern (croner syntax, 5 or 6 fields). */
    cron: z.string().optional(),
    /** An interval: windows are aligned to multiples of it since the epoch. */
    every: durationSchema.optional(),
    /** `off_peak`: one run a day, at the start of the analyzer's off-peak window. */
    at: z.literal("off_peak").optional(),
    /** How often an off-peak schedule checks whether its window has come. */
    check_every: durationSchema.default("5m"),
    /** Length of the off-peak window asked for. */
    window_minutes: z.number().int().min(1).max(1440).default(60),
    timezone: z.string().default("UTC"),
    /** top_n: keys to precompute. */
    limit: z.number().int().min(1).max(100_000).default(1000),
    /** Priority of the schedule's tasks. */
    priority: priority.optional(),
    /** top_n / refresh_ahead: only this task type or tenant. */
    task_type: z.string().optional(),
    tenant: z.string().optional(),
    /** launch_warming: task types of launches that name none (default: the campaign_launch_scheduled rule's, else campaign_created's). */
    task_types: z.array(z.string()).default([]),
    /** launch_warming: launches due within this many hours. */
    hours_ahead: z.number().positive().max(8784).default(4),
    /** launch_warming: tasks become claimable this long before the launch, at most their type's refresh horizon. */
    lead: durationSchema.default("2h"),
    /** analysis: retrain the next-action model too. */
    retrain: z.boolean().default(true),
    /** Lease of a run; a replica that stops renewing it is taken over after this. */
    lease: durationSchema.default("60s"),
    /** Wait before a failed run is retried within its window. */
    retry_after: durationSchema.default("60s"),
    /** Attempts per window before it is given up. */
    max_attempts: z.number().int().min(1).max(100).default(5),
    enabled: z.boolean().default(true),
  })
  .strict()
  .superRefine((s, ctx) => {
    const timings = [s.cron, s.every, s.at].filter((x) => x !== undefined).length;
    if (timings !== 1)
      ctx.addIssue({ code: "custom", message: "give exactly one of cron, every or at: off_peak" });
  });

const precomputerSchema = z
  .object({
    refresh_ahead: z
      .object({
        /** Refresh when expires_at is within max(horizon, horizon_fraction × TTL). */
        horizon: durationSchema.default("10m"),
        horizon_fraction: z.number().min(0).max(1).default(0.1),
        /** Demand (decayed requests/s) at or above which a key is worth keeping warm. */
        min_demand: z.number().nonnegative().default(0.001),
        /** Reads expected within the next result's life (demand × TTL) at or above which a key is refreshed. */
        min_expected_reads: z.number().nonnegative().default(0),
        /** Hot keys examined per run. */
        candidates: z.number().int().min(1).max(100_000).default(1000),
        /** XFetch-flagged keys taken per run. */
        refresh_due_limit: z.number().int().min(0).max(100_000).default(1000),
        priority: priority.default(3),
      })
      .strict()
      .default({
        horizon: "10m",
        horizon_fraction: 0.1,
        min_demand: 0.001,
        min_expected_reads: 0,
        candidates: 1000,
        refresh_due_limit: 1000,
        priority: 3,
      }),
    predicted: z
      .object({
        min_confidence: z.number().min(0).max(1).default(0.2),
        /** Actions and keys asked of the analyzer. */
        limit: z.number().int().min(1).max(100).default(5),
        priority: priority.default(4),
        /** Predicted action → task types, computed for the acting user or their related entities. */
        actions: z.record(z.string(), z.array(predictedTargetSchema)).default({}),
      })
      .strict()
      .default({ min_confidence: 0.2, limit: 5, priority: 4, actions: {} }),
    budget: z
      .object({
        /** Background tasks (schedule, refresh, predicted, launch) admitted per minute. */
        per_minute: z.number().int().min(0).default(10_000),
        /** Minutes of budget that may be saved up for a burst. */
        burst_minutes: z.number().positive().max(10_080).default(1),
        /** Triggers and other foreground work use up budget too (they are never refused). */
        charge_foreground: z.boolean().default(false),
        /** The lowest read probability background work is admitted at (the budget raises it when tight). */
        min_probability: z.number().min(0).max(1).default(0.2),
        /** How late the bar rises as the bucket empties: max(min_probability, (1 − fill)^bar_exponent). */
        bar_exponent: z.number().min(1).max(64).default(4),
        /** Back-off thresholds; above one, background work shrinks, at twice it stops. */
        max_live_qps: z.number().positive().default(5000),
        max_queue_depth: z.number().positive().default(10_000),
        max_predictor_queue_ms: z.number().positive().default(50),
        /** Tenant → weight (default 1): heavier tenants are admitted first. */
        tenant_weights: z.record(z.string(), z.number().positive()).default({}),
      })
      .strict()
      .default({
        per_minute: 10_000,
        burst_minutes: 1,
        charge_foreground: false,
        min_probability: 0.2,
        bar_exponent: 4,
        max_live_qps: 5000,
        max_queue_depth: 10_000,
        max_predictor_queue_ms: 50,
        tenant_weights: {},
      }),
    alerts: z
      .object({
        queue_depth_above: z.number().nonnegative().default(100),
        hit_rate_below: z.number().min(0).max(1).default(0.8),
      })
      .strict()
      .default({ queue_depth_above: 100, hit_rate_below: 0.8 }),
  })
  .strict();

const fileSchema = z.object({
  rules: z
    .record(z.string().regex(/^[a-z][a-z0-9_]*$/, "event names match [a-z][a-z0-9_]*"), ruleSchema)
    .default({}),
  schedules: z
    .record(z.string().regex(/^[a-z][a-z0-9_-]*$/, "schedule names match [a-z][a-z0-9_-]*"), scheduleSchema)
    .default({}),
  precomputer: precomputerSchema.default(precomputerSchema.parse({})),
});

export type KeyBy = "entity" | "user" | "related";

export interface RuleTarget {
  taskType: string;
  priority: number;
  keyBy: KeyBy;
  /** `related`: how many of the user's related entities (default 3). */
  relatedLimit?: number;
  /** A learned target: the share of events followed by its read; configured targets have none (certain). */
  probability?: number;
}

export interface TriggerRule {
  event: string;
  /** Configured in the file, or learned by the analyzer from traffic. */
  source?: "configured" | "learned";
  targets: RuleTarget[];
  predictNextActions: boolean;
  predictNextKeys: boolean;
  skipFresh: boolean;
  description: string;
}

export type ScheduleTiming =
  | { kind: "cron"; cron: string; timeZone: string }
  | { kind: "every"; everyMs: number }
  | { kind: "off_peak"; checkEveryMs: number; windowMinutes: number; timeZone: string };

export interface ScheduleSpec {
  name: string;
  job: ScheduleJob;
  timing: ScheduleTiming;
  enabled: boolean;
  limit: number;
  priority: number;
  taskType?: string;
  tenant?: string;
  taskTypes: string[];
  hoursAhead: number;
  leadMs: number;
  retrain: boolean;
  leaseMs: number;
  retryAfterMs: number;
  maxAttempts: number;
}

export interface RefreshAheadSettings {
  horizonMs: number;
  horizonFraction: number;
  minDemand: number;
  /** demand × TTL (s) at or above which a key is refreshed: min_demand scaled to short TTLs. */
  minExpectedReads: number;
  candidates: number;
  refreshDueLimit: number;
  priority: number;
}

/** A configured predicted action's task type, and whose result it computes. */
export interface PredictedTarget {
  taskType: string;
  keyBy: "user" | "related";
  /** `related`: how many of the user's related entities. */
  relatedLimit: number;
}

export interface PredictedSettings {
  minConfidence: number;
  limit: number;
  priority: number;
  actions: Map<string, PredictedTarget[]>;
}

export interface AlertThresholds {
  queueDepthAbove: number;
  hitRateBelow: number;
}

export interface PrecomputerConfig {
  rules: Map<string, TriggerRule>;
  schedules: Map<string, ScheduleSpec>;
  refreshAhead: RefreshAheadSettings;
  predicted: PredictedSettings;
  budget: BudgetOptions;
  alerts: AlertThresholds;
}

/** Default priority of each job's tasks. */
const jobPriority: Record<ScheduleJob, number> = {
  top_n: 4,
  launch_warming: 6,
  analysis: 1,
  cleanup: 1,
  refresh_ahead: 3,
  readahead: 5,
};

const backgroundReasons: TaskReason[] = ["schedule", "launch", "refresh", "predicted"];

/**
 * Parses and validates the precomputer's sections of a parsed configuration
 * document (`TaskTypeRegistry.raw`). Every task type a rule, schedule or
 * action names must be declared; cron patterns must parse.
 */
export function parsePrecomputerConfig(
  raw: Record<string, unknown>,
  taskTypes: TaskTypeRegistry,
  validateCron: (pattern: string, timeZone: string) => void = () => {},
  source = "configuration",
): PrecomputerConfig {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new InvalidArgumentError(`${source}: ${issues.join("; ")}`);
  }
  const problems: string[] = [];
  const known = (path: string, name: string): void => {
    if (!taskTypes.has(name)) problems.push(`${path}: unknown task type ${JSON.stringify(name)}`);
  };
  const duration = (path: string, v: string | number): number => {
    try {
      return parseDuration(v, path);
    } catch (e) {
      problems.push((e as Error).message);
      return 1000;
    }
  };

  const rules = new Map<string, TriggerRule>();
  for (const [event, r] of Object.entries(parsed.data.rules)) {
    const targets = r.task_types.map((spec, i): RuleTarget => {
      known(`rules.${event}.task_types[${i}]`, spec.task_type);
      const fallback = taskTypes.has(spec.task_type) ? taskTypes.get(spec.task_type).defaultPriority : 5;
      return {
        taskType: spec.task_type,
        priority: ("priority" in spec ? spec.priority : undefined) ?? r.priority ?? fallback,
        keyBy: spec.key_by,
        ...(spec.key_by === "related" && spec.related_limit !== undefined
          ? { relatedLimit: spec.related_limit }
          : {}),
      };
    });
    if (targets.length === 0 && !r.predict_next_actions)
      problems.push(`rules.${event}: names no task_types and does not predict_next_actions`);
    rules.set(event, {
      event,
      source: "configured",
      targets,
      predictNextActions: r.predict_next_actions,
      predictNextKeys: r.predict_next_keys,
      skipFresh: r.skip_fresh,
      description: r.description,
    });
  }

  const schedules = new Map<string, ScheduleSpec>();
  for (const [name, s] of Object.entries(parsed.data.schedules)) {
    const path = `schedules.${name}`;
    let timing: ScheduleTiming;
    if (s.cron !== undefined) {
      try {
        validateCron(s.cron, s.timezone);
      } catch (e) {
        problems.push(`${path}.cron: ${(e as Error).message}`);
      }
      timing = { kind: "cron", cron: s.cron, timeZone: s.timezone };
    } else if (s.every !== undefined) {
      timing = { kind: "every", everyMs: duration(`${path}.every`, s.every) };
    } else {
      timing = {
        kind: "off_peak",
        checkEveryMs: duration(`${path}.check_every`, s.check_every),
        windowMinutes: s.window_minutes,
        timeZone: s.timezone,
      };
    }
    if (s.task_type !== undefined) known(`${path}.task_type`, s.task_type);
    s.task_types.forEach((t, i) => {
      known(`${path}.task_types[${i}]`, t);
    });
    schedules.set(name, {
      name,
      job: s.job,
      timing,
      enabled: s.enabled,
      limit: s.limit,
      priority: s.priority ?? jobPriority[s.job],
      ...(s.task_type !== undefined ? { taskType: s.task_type } : {}),
      ...(s.tenant !== undefined ? { tenant: s.tenant } : {}),
      taskTypes: s.task_types,
      hoursAhead: s.hours_ahead,
      leadMs: duration(`${path}.lead`, s.lead),
      retrain: s.retrain,
      leaseMs: duration(`${path}.lease`, s.lease),
      retryAfterMs: duration(`${path}.retry_after`, s.retry_after),
      maxAttempts: s.max_attempts,
    });
  }

  const p = parsed.data.precomputer;
  const actions = new Map<string, PredictedTarget[]>();
  for (const [action, specs] of Object.entries(p.predicted.actions)) {
    const targets = specs.map((t, i): PredictedTarget => {
      known(`precomputer.predicted.actions.${action}[${i}]`, t.task_type);
      return { taskType: t.task_type, keyBy: t.key_by, relatedLimit: t.related_limit };
    });
    actions.set(action, targets);
  }
  if (problems.length > 0) throw new InvalidArgumentError(`${source}: ${problems.join("; ")}`);
  const horizon = {
    horizonMs: duration("precomputer.refresh_ahead.horizon", p.refresh_ahead.horizon),
    horizonFraction: p.refresh_ahead.horizon_fraction,
  };
  // A refresh-ahead schedule runs often enough for the shortest TTL it covers.
  for (const [name, spec] of schedules) {
    if (spec.job !== "refresh_ahead" || spec.timing.kind !== "every") continue;
    const covered = taskTypes.list().filter((t) => spec.taskType === undefined || t.name === spec.taskType);
    const everyMs = refreshPeriodMs(
      spec.timing.everyMs,
      covered.map((t) => t.ttlMs),
      horizon,
    );
    if (everyMs !== spec.timing.everyMs) schedules.set(name, { ...spec, timing: { kind: "every", everyMs } });
  }
  return {
    rules,
    schedules,
    refreshAhead: {
      ...horizon,
      minDemand: p.refresh_ahead.min_demand,
      minExpectedReads: p.refresh_ahead.min_expected_reads,
      candidates: p.refresh_ahead.candidates,
      refreshDueLimit: p.refresh_ahead.refresh_due_limit,
      priority: p.refresh_ahead.priority,
    },
    predicted: {
      minConfidence: p.predicted.min_confidence,
      limit: p.predicted.limit,
      priority: p.predicted.priority,
      actions,
    },
    budget: {
      perMinute: p.budget.per_minute,
      burstMinutes: p.budget.burst_minutes,
      chargeForeground: p.budget.charge_foreground,
      minProbability: p.budget.min_probability,
      barExponent: p.budget.bar_exponent,
      backgroundReasons,
      maxLiveQps: p.budget.max_live_qps,
      maxQueueDepth: p.budget.max_queue_depth,
      maxPredictorQueueMs: p.budget.max_predictor_queue_ms,
      tenantWeights: new Map(Object.entries(p.budget.tenant_weights)),
    },
    alerts: { queueDepthAbove: p.alerts.queue_depth_above, hitRateBelow: p.alerts.hit_rate_below },
  };
}
