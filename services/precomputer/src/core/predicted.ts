import { formatKey, parseKey } from "@prescient/core";
import type { PredictedSettings, TriggerRule } from "./config.js";
import { addCount, type Counts, type PlannedTask, skipReasons } from "./types.js";

/**
 * Predicted precompute: after a login or an action, the actions the user is
 * likely to take next (PredictNextActions) and the keys likely to be asked
 * for next (PredictNextKeys) are computed ahead, reason `predicted`, when
 * their confidence is at or above the threshold (default 0.5).
 *
 * An action maps to task types by `precomputer.predicted.actions`, else by
 * the rule of the event of the same name, else by a task type of that name.
 */
export interface PredictionInput {
  tenant: string;
  /** The entity the predicted actions' results are about: the acting user. */
  subject: string;
  actions: ReadonlyArray<{ action: string; probability: number }>;
  keys: ReadonlyArray<{ key: string; confidence: number }>;
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
  if (mapped !== undefined) return mapped;
  const rule = rules.get(action);
  if (rule !== undefined) return rule.targets.map((t) => t.taskType);
  return isTaskType(action) ? [action] : [];
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
  const byTenant = new Map<string, Array<{ key: string; confidence: number }>>();
  for (const k of keys) {
    const tenant = k.key.slice(0, Math.max(0, k.key.indexOf("/")));
    byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), k]);
  }
  const tasks: PlannedTask[] = [];
  for (const [tenant, ks] of byTenant) {
    const plan = planPredicted(
      { tenant, subject: "", actions: [], keys: ks },
      settings,
      new Map(),
      isTaskType,
    );
    tasks.push(...plan.tasks);
    for (const [reason, n] of plan.skipped) addCount(skipped, reason, n);
  }
  return tasks;
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
  const push = (tenant: string, taskType: string, entityId: string, key: string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    tasks.push({ key, tenant, taskType, entityId, priority: settings.priority, reason: "predicted" });
  };
  for (const a of input.actions) {
    if (!(a.probability >= settings.minConfidence)) {
      addCount(skipped, skipReasons.lowConfidence);
      continue;
    }
    const types = taskTypesOfAction(a.action, settings, rules, isTaskType);
    if (types.length === 0) addCount(skipped, skipReasons.unmappedAction);
    for (const taskType of types)
      push(
        input.tenant,
        taskType,
        input.subject,
        formatKey({ tenant: input.tenant, taskType, entityId: input.subject }),
      );
  }
  for (const k of input.keys) {
    if (!(k.confidence >= settings.minConfidence)) {
      addCount(skipped, skipReasons.lowConfidence);
      continue;
    }
    let parts: ReturnType<typeof parseKey>;
    try {
      parts = parseKey(k.key);
    } catch {
      addCount(skipped, skipReasons.badKey);
      continue;
    }
    if (parts.tenant !== input.tenant) {
      addCount(skipped, skipReasons.otherTenant);
      continue;
    }
    if (parts.entityId === undefined) {
      addCount(skipped, skipReasons.semanticKey);
      continue;
    }
    if (!isTaskType(parts.taskType)) {
      addCount(skipped, skipReasons.unknownTaskType);
      continue;
    }
    push(parts.tenant, parts.taskType, parts.entityId, k.key);
  }
  return { tasks, skipped };
}
