import type { TaskTypeRegistry } from "@prescient/core";
import type { PolicyName, TypeTable } from "../sim/options.js";
import type { Policy } from "../sim/policy.js";
import { nonePolicy, reactivePolicy } from "./baselines.js";
import { oraclePolicy } from "./oracle.js";
import { prescientPolicy } from "./prescient/prescient-policy.js";
import type { PrescientSettings } from "./prescient/settings.js";
import { staticTopNPolicy } from "./static-topn.js";

/** What a policy is built from: the trace's types, the top-N size and the configuration. */
export interface PolicyEnv {
  types: TypeTable;
  topN: number;
  taskTypes: TaskTypeRegistry | undefined;
  startMs: number;
  prescient?: Partial<PrescientSettings>;
}

export function createPolicy(name: PolicyName, env: PolicyEnv): Policy {
  switch (name) {
    case "none":
      return nonePolicy();
    case "reactive":
      return reactivePolicy();
    case "static-topn":
      return staticTopNPolicy(env.topN);
    case "prescient":
      return prescientPolicy(env, env.prescient);
    case "oracle":
      return oraclePolicy(Math.max(0, ...env.types.types().map((t) => env.types.of(t).latencyMs)));
  }
}
