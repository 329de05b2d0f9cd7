/**
 * The precomputer's vocabulary: plain data shared by every policy module.
 * Times are milliseconds since the Unix epoch, read from an injected Clock.
 */

import type { Features, TaskReason } from "@prescient/core";

export type { Features, TaskReason };

/** An event a backend reports: `video_uploaded`, `campaign_created`, `user_login`, ... */
export interface TriggerEvent {
  type: string;
  tenant: string;
  /** The entity the event is about; may be empty when the event is about a user. */
  entityId: string;
  userId: string;
  features: Features;
  attributes: Record<string, string>;
  /** When it happened; the clock's now when absent. */
  time?: number;
  /** Entities the event concerns besides its own: the analyzer relates them to its user and entity. */
  relatedEntityIds?: readonly string[];
}

/** One key the precomputer wants computed. */
export interface PlannedTask {
  /** Canonical key (formatKey). */
  key: string;
  tenant: string;
  taskType: string;
  entityId: string;
  /** 1 (lowest) to 10 (critical). */
  priority: number;
  reason: TaskReason;
  /** Not claimed before this time. */
  notBefore?: number;
  /**
   * Features upserted into the executor's entity store before the task is
   * queued. Fan-out sets them on one task per entity: one upsert suffices.
   */
  features?: Features;
  /** How likely the result is read before it expires, where a source estimated it (learned rules, predictions). */
  probability?: number;
}

/** Counts by a name (a skip reason, a task type, a reason). */
export type Counts = Map<string, number>;

export function addCount(counts: Counts, name: string, n = 1): void {
  if (n > 0) counts.set(name, (counts.get(name) ?? 0) + n);
}

/** Skip and defer reasons, as counted by Stats and the metrics. */
export const skipReasons = {
  /** The result is already fresh in the cache. */
  fresh: "fresh",
  /** Over the per-minute background budget. */
  budgetExhausted: "budget_exhausted",
  /** Back-off: live query load above its threshold. */
  backoffLiveLoad: "backoff_live_load",
  /** Back-off: executor queue depth above its threshold. */
  backoffQueueDepth: "backoff_queue_depth",
  /** Back-off: predictor queue time above its threshold. */
  backoffPredictorQueue: "backoff_predictor_queue",
  /** Refresh-ahead: demand below the threshold, left to expire. */
  cold: "cold",
  /** Refresh-ahead: not yet within the refresh horizon. */
  notNearExpiry: "not_near_expiry",
  /**
   * An onnx task whose entity has no features in the executor (its result
   * was put by a client, or its features never reached the executor) and
   * none in the call that planned it, so it could only fail and be
   * dead-lettered: triggers, readahead, top-N, launch warming, refresh-ahead.
   */
  noFeatures: "no_features",
  /** Predicted: confidence below the threshold. */
  lowConfidence: "low_confidence",
  /** Budget: the read is less likely than the bar the budget's fill sets. */
  lowValue: "low_value",
  /** Predicted: an action that maps to no task type. */
  unmappedAction: "unmapped_action",
  /**
   * Predicted: an action named after a task type the event's rule fans out
   * (configured or learned): the rule already plans it, keyed as its reads
   * are (a campaign type by the user's related campaigns), not by the user.
   */
  ruleTarget: "rule_target",
  /**
   * Predicted: an action mapped to a task type by name (not by the
   * configuration) that no rule keys by the user: how its reads are keyed
   * is unknown, and keyed by the user it may be a result nobody reads (an
   * ad's CTR under the user's id). The analyzer's next-read offers predict
   * it after the user's reads, keyed as those reads were.
   */
  unkeyedAction: "unkeyed_action",
  /** A key of a task type the configuration does not declare. */
  unknownTaskType: "unknown_task_type",
  /** An input-addressed key: no entity record to rebuild inputs from. */
  semanticKey: "semantic_key",
  /** A predicted key of another tenant than the event's. */
  otherTenant: "other_tenant",
  /** A key that does not parse. */
  badKey: "bad_key",
  /** Launch warming: the launch is already past. */
  launchPast: "launch_past",
  /** Launch warming: the launch is beyond hours_ahead. */
  launchTooFar: "launch_too_far",
  /** The same key was planned twice in one batch. */
  duplicate: "duplicate",
  /**
   * A task of the key was waiting in the executor's queue already, and the
   * new one merged into it (the executor's dedup): no new work, so it is not
   * counted as enqueued. Its answer still carries the waiting task's id.
   */
  queued: "queued",
} as const;

export type SkipReason = (typeof skipReasons)[keyof typeof skipReasons];
