import type { Clock } from "@prescient/core";
import type { TraceEvent, TraceRead } from "../trace/record.js";
import type { ComputeReason, ReadClass } from "./metrics.js";

/**
 * A policy decides what to compute ahead of time. The run (policy-run.ts)
 * owns the cache, the compute and the metrics, and calls the policy's hooks;
 * a policy acts only through the context, so all five are measured alike.
 */
export interface ReadOutcome {
  outcome: "hit" | "stale" | "miss";
  cls: ReadClass;
  /** Compute time the read cost (0 on a hit). */
  computeMs: number;
}

export interface CacheView {
  /** When the key's current result expires, or undefined if none (or already expired). */
  freshUntil(key: string): number | undefined;
  /** When an in-flight compute of the key completes, if one runs. */
  readyAt(key: string): number | undefined;
}

export interface PolicyContext {
  readonly cache: CacheView;
  /** The virtual clock, for modules that take a Clock. */
  readonly clock: Clock;
  now(): number;
  /** Runs `action` at virtual time `time`. */
  at(time: number, action: () => void | Promise<void>): void;
  /**
   * Computes a key ahead of time if it is not already fresh beyond `neededUntil`
   * (default: now) or in flight; spends one budget token. Returns whether a compute started.
   * `probability`: the chance the policy gave the result of being read before it expires,
   * held against what happened (calibration.ts).
   */
  precompute(
    key: string,
    taskType: string,
    reason: ComputeReason,
    neededUntil?: number,
    probability?: number,
  ): boolean;
  /** Budget tokens available now. */
  tokens(): number;
  /** The run's budget: tokens per second, and how many may be saved up. */
  readonly budget: { perSecond: number; burst: number };
  ttlMs(taskType: string): number;
  latencyMs(taskType: string): number;
}

export interface Policy {
  readonly name: string;
  /** False for `none`: every read computes. */
  readonly caches: boolean;
  /** How far ahead of time the policy must see reads (the oracle); 0 for online policies. */
  readonly lookaheadMs: number;
  start?(ctx: PolicyContext, startMs: number): void | Promise<void>;
  onRead?(read: TraceRead, outcome: ReadOutcome, ctx: PolicyContext): void | Promise<void>;
  onEvent?(event: TraceEvent, ctx: PolicyContext): void | Promise<void>;
  /** A read that will happen at read.time, seen `lookaheadMs` early. */
  onFuture?(read: TraceRead, ctx: PolicyContext): void;
  /** A result landed in the cache. */
  onStored?(
    key: string,
    taskType: string,
    expiresAt: number,
    reason: ComputeReason,
    ctx: PolicyContext,
  ): void;
  finish?(): Promise<void> | void;
}
