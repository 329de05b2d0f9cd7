import type { Policy } from "../sim/policy.js";

/** `none`: no cache at all; every read computes. The floor of every metric. */
export const nonePolicy = (): Policy => ({ name: "none", caches: false, lookaheadMs: 0 });

/** `reactive`: cache-aside with the type's TTL; nothing is computed before it is asked for. */
export const reactivePolicy = (): Policy => ({ name: "reactive", caches: true, lookaheadMs: 0 });
