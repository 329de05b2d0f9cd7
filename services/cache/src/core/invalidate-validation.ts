import type { cacheV1 } from "@prescient/contracts";
import {
  compileKeyPattern,
  InvalidArgumentError,
  type TaskTypeRegistry,
  validateTenant,
} from "@prescient/core";
import { resolveKey, withField } from "@prescient/kit";
import { type InvalidationSelector, numericModelVersion } from "../store/cache-store.js";
import { checkText, putLimits } from "./put-validation.js";

/** An exact key, or what a store's invalidate takes. */
export type Invalidation = { kind: "key"; key: string } | InvalidationSelector;

const selectorNames = "key, prefix, pattern, tag, task_type or model_older_than";

/** Validates an InvalidateRequest: exactly one selector, and a tenant where the selector needs one. */
export function toInvalidation(registry: TaskTypeRegistry, request: cacheV1.InvalidateRequest): Invalidation {
  const set = [
    request.key,
    request.prefix,
    request.pattern,
    request.tag,
    request.taskType,
    request.modelOlderThan,
  ].filter((s) => s !== undefined).length;
  if (set !== 1) throw new InvalidArgumentError(`exactly one of ${selectorNames} is required (got ${set})`);
  const tenant = request.tenant;
  const requireTenant = (selector: string): string => {
    if (tenant === "") throw new InvalidArgumentError(`tenant is required to invalidate by ${selector}`);
    return withField("tenant", () => validateTenant(tenant));
  };
  const optionalTenant = (): string | undefined =>
    tenant === "" ? undefined : withField("tenant", () => validateTenant(tenant));

  if (request.key !== undefined) {
    const { key, parts } = resolveKey(registry, request.key, "key");
    if (tenant !== "" && tenant !== parts.tenant)
      throw new InvalidArgumentError(
        `tenant ${JSON.stringify(tenant.slice(0, 100))} differs from the key's tenant`,
      );
    return { kind: "key", key };
  }
  if (request.prefix !== undefined) {
    const prefix = request.prefix;
    const t = requireTenant("prefix");
    if (prefix === "") throw new InvalidArgumentError('prefix is empty; to clear the tenant use pattern "*"');
    // A prefix is the pattern of its literal text followed by '*'.
    const asPattern = `${prefix.replace(/[\\*?]/g, "\\$&")}*`;
    return { kind: "pattern", pattern: withField("prefix", () => compileKeyPattern(t, asPattern)) };
  }
  if (request.pattern !== undefined) {
    const pattern = request.pattern;
    const t = requireTenant("pattern");
    return { kind: "pattern", pattern: withField("pattern", () => compileKeyPattern(t, pattern)) };
  }
  if (request.tag !== undefined) {
    const tag = request.tag;
    const t = requireTenant("tag");
    if (tag === "") throw new InvalidArgumentError("tag is empty");
    checkText("tag", tag, putLimits.tagMaxBytes);
    return { kind: "tag", tenant: t, tag };
  }
  if (request.taskType !== undefined) {
    const taskType = request.taskType;
    const type = withField("task_type", () => registry.get(taskType));
    return { kind: "task_type", tenant: optionalTenant(), taskType: type.name };
  }
  const selector = request.modelOlderThan ?? { modelName: "", olderThanVersion: "" };
  if (selector.modelName === "") throw new InvalidArgumentError("model_older_than.model_name is required");
  checkText("model_older_than.model_name", selector.modelName, putLimits.modelNameMaxBytes);
  const olderThan = numericModelVersion(selector.olderThanVersion);
  if (olderThan === undefined)
    throw new InvalidArgumentError(
      `model_older_than.older_than_version must be a number such as "3" (got ${JSON.stringify(selector.olderThanVersion.slice(0, 40))})`,
    );
  return { kind: "model_older_than", tenant: optionalTenant(), modelName: selector.modelName, olderThan };
}
