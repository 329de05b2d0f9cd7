import { formatKey, parseKey } from "@prescient/core";
import type { PredictedSettings, PredictedTarget, TriggerRule } from "./config.js";
import { addCount, type Counts, type PlannedTask, skipReasons } from "./types.js";

/**
 * Predicted precompute: after a login or an action, the actions the user is
 * likely to take next (PredictNextActions) and the keys likely to be asked
 * for next (PredictNextKeys) are computed ahead, reason `predicted`, when
 * their confidence is at or above the threshold (default 0.5).
 *
 * An action maps to task types by `precomputer.predicted.actions`, else by
 * the rule of the event of the same name, else by a task type of that name.
 * Mapped by the configuration, a type is computed for the acting user, or
 * for the user's related entities (`key_by: related`: view_campaign → the
 * analytics of the campaigns they manage). Mapped by name, a type that the
 * triggering event's rule fans out is left to the rule (`rule_target`),
 * which keys it as its reads are keyed (by the user's related campaigns,
 * say): keyed by the user instead, it would be a result nobody reads. So is
 * any other type mapped by name, unless the rule it is mapped through keys
 * that type by the user (`unkeyed_action`): a read-derived action such as
 * `ctr_prediction` names ads, not users, and the analyzer's next-read offers
 * predict such reads keyed as they were.
 */
export interface PredictionInput {
  tenant: string;
  /** The entity the predicted actions' results are about: the acting user. */
  subject: string;
  actions: ReadonlyArray<{ action: string; probability: number }>;
  keys: ReadonlyArray<{ key: string; confidence: number }>;
  /** Task types the triggering event's rule fans out (configured and learned targets). */
  ruleTypes?: ReadonlySet<string>;
  /** Task type → the user's related entity ids, for configured `related` targets (relatedTargetsOf). */
  related?: ReadonlyMap<string, readonly string[]>;
}

export interface PredictedPlan {
  tasks: PlannedTask[];
  skipped: Counts;
}

export function taskTypesOfAction(
  action: string,
  settings: PredictedSettings,
  rules: ReadonlyMap<string, TriggerRule>,
  isTaskType: (name: string) => boolean,
): string[] {
  const mapped = settings.actions.get(action);
  if (mapped !== undefined) return mapped.map((t) => t.taskType);
  const rule = rules.get(action);
  if (rule !== undefined) return rule.targets.map((t) => t.taskType);
  return isTaskType(action) ? [action] : [];
}

/**
 * The configured `related` targets of the actions at or above the threshold,
 * one per task type (the largest limit asked): whose related entities the
 * analyzer is asked for before planPredicted runs.
 */
export function relatedTargetsOf(
  actions: ReadonlyArray<{ action: string; probability: number }>,
  settings: PredictedSettings,
): PredictedTarget[] {
  const byType = new Map<string, PredictedTarget>();
  for (const a of actions) {
    if (!(a.probability >= settings.minConfidence)) continue;
    for (const t of settings.actions.get(a.action) ?? []) {
      if (t.keyBy !== "related") continue;
      const had = byType.get(t.taskType);
      if (had === undefined || had.relatedLimit < t.relatedLimit) byType.set(t.taskType, t);
    }
  }
  return [...byType.values()];
}

/**
 * Readahead: the keys past sequential runs (the analyzer's TakeReadAhead),
 * of any tenant, planned as predicted work at or above the confidence
 * threshold, as the keys of planPredicted are.
 */
export function planReadAhead(
  keys: ReadonlyArray<{ key: string; confidence: number }>,
  settings: PredictedSettings,
  isTaskType: (name: string) => boolean,
  skipped: Counts,
): PlannedTask[] {
  const tasks: PlannedTask[] = [];
  const seen = new Set<string>();
  for (const k of keys) {
    const task = predictedKeyTask(k, undefined, settings, isTaskType, skipped);
    if (task === undefined || seen.has(task.key)) continue;
    seen.add(task.key);
    tasks.push(task);
  }
  return tasks;
}

/** A predicted key as a task, or undefined (counted in `skipped`) when it cannot or need not be one. */
function predictedKeyTask(
  k: { key: string; confidence: number },
  tenant: string | undefined,
  settings: PredictedSettings,
  isTaskType: (name: string) => boolean,
  skipped: Counts,
): PlannedTask | undefined {
  if (!(k.confidence >= settings.minConfidence)) {
    addCount(skipped, skipReasons.lowConfidence);
    return undefined;
  }
  let parts: ReturnType<typeof parseKey>;
  try {
    parts = parseKey(k.key);
  } catch {
    addCount(skipped, skipReasons.badKey);
    return undefined;
  }
  if (tenant !== undefined && parts.tenant !== tenant) {
    addCount(skipped, skipReasons.otherTenant);
    return undefined;
  }
  if (parts.entityId === undefined) {
    addCount(skipped, skipReasons.semanticKey);
    return undefined;
  }
  if (!isTaskType(parts.taskType)) {
    addCount(skipped, skipReasons.unknownTaskType);
    return undefined;
  }
  return {
    key: k.key,
    tenant: parts.tenant,
    taskType: parts.taskType,
    entityId: parts.entityId,
    priority: settings.priority,
    reason: "predicted",
    probability: Math.min(1, k.confidence),
  };
}

export function planPredicted(
  input: PredictionInput,
  settings: PredictedSettings,
  rules: ReadonlyMap<string, TriggerRule>,
  isTaskType: (name: string) => boolean,
): PredictedPlan {
  const skipped: Counts = new Map();
  const tasks: PlannedTask[] = [];
  const seen = new Set<string>();
  const push = (
    tenant: string,
    taskType: string,
    entityId: string,
    key: string,
    probability: number,
  ): void => {
    if (seen.has(key)) return;
    seen.add(key);
    tasks.push({
      key,
      tenant,
      taskType,
      entityId,
      priority: settings.priority,
      reason: "predicted",
      probability: Math.min(1, probability),
    });
  };
  for (const a of input.actions) {
    if (!(a.probability >= settings.minConfidence)) {
      addCount(skipped, skipReasons.lowConfidence);
      continue;
    }
    const configured = settings.actions.get(a.action);
    if (configured !== undefined) {
      if (configured.length === 0) addCount(skipped, skipReasons.unmappedAction);
      for (const t of configured) {
        const subjects =
          t.keyBy === "related"
            ? (input.related?.get(t.taskType) ?? []).slice(0, t.relatedLimit)
            : [input.subject];
        for (const entityId of subjects)
          push(
            input.tenant,
            t.taskType,
            entityId,
            formatKey({ tenant: input.tenant, taskType: t.taskType, entityId }),
            a.probability,
          );
      }
      continue;
    }
    const types = taskTypesOfAction(a.action, settings, rules, isTaskType);
    if (types.length === 0) addCount(skipped, skipReasons.unmappedAction);
    const rule = rules.get(a.action);
    for (const taskType of types) {
      if (input.ruleTypes?.has(taskType) === true) {
        addCount(skipped, skipReasons.ruleTarget);
        continue;
      }
      if (rule?.targets.some((t) => t.taskType === taskType && t.keyBy === "user") !== true) {
        addCount(skipped, skipReasons.unkeyedAction);
        continue;
      }
      push(
        input.tenant,
        taskType,
        input.subject,
        formatKey({ tenant: input.tenant, taskType, entityId: input.subject }),
        a.probability,
      );
    }
  }
  for (const k of input.keys) {
    const task = predictedKeyTask(k, input.tenant, settings, isTaskType, skipped);
    if (task !== undefined) push(task.tenant, task.taskType, task.entityId, task.key, k.confidence);
  }
  return { tasks, skipped };
}
