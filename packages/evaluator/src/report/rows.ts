import type { PolicyMetrics, RateCount } from "../sim/metrics.js";
import type { ReplayReport } from "../sim/replay.js";
import { duration, int, pct } from "./format.js";
import {
  byReasonColumns,
  byTypeColumns,
  calibrationColumns,
  summaryColumns,
  type Term,
  withinReachColumns,
} from "./glossary.js";

/**
 * The comparison tables as rows of strings, built once for the text and the
 * HTML report alike.
 */
export interface Table {
  /** A stable name for the table (the HTML report's `data-table`). */
  id: string;
  title: string;
  headers: string[];
  rows: string[][];
  /** What the columns mean (glossary.ts). */
  columns: readonly Term[];
}

const oracleOf = (r: ReplayReport): PolicyMetrics | undefined =>
  r.policies.find((p) => p.policy === "oracle");

export function summaryTable(r: ReplayReport): Table {
  const oracle = oracleOf(r);
  return {
    id: "policies",
    title: "Policies",
    headers: summaryColumns.map((c) => c.term),
    columns: summaryColumns,
    rows: r.policies.map((p) => [
      p.policy,
      pct(p.hitRate),
      oracle !== undefined && oracle.hitRate > 0 ? `${(p.hitRate / oracle.hitRate).toFixed(2)}x` : "-",
      pct(p.firstReads.hitRate),
      pct(p.afterExpiryReads.hitRate),
      p.staleServed > 0 ? `${int(p.staleServed)} (${duration(p.meanStalenessMs)})` : "0",
      pct(p.waste),
      int(p.computes.total),
      int(p.computes.ahead),
      pct(p.budget.utilisation),
      pct(p.latencySavedShare),
      p.prefetch.issued > 0 ? pct(p.prefetch.accuracy) : "-",
      p.prefetch.issued > 0 ? pct(p.prefetch.coverage) : "-",
      p.prefetch.issued > 0 ? pct(p.prefetch.timeliness) : "-",
    ]),
  };
}

export function byTypeTable(r: ReplayReport): Table {
  const types = [...new Set(r.policies.flatMap((p) => Object.keys(p.byType)))].sort();
  return {
    id: "by-type",
    title: "Hit rate by task type",
    headers: ["task type", "reads", ...r.policies.map((p) => p.policy)],
    columns: byTypeColumns,
    rows: types.map((t) => [
      t,
      int(r.policies[0]?.byType[t]?.reads ?? 0),
      ...r.policies.map((p) => pct(p.byType[t]?.hitRate ?? 0)),
    ]),
  };
}

/**
 * Hit rates with the reads out of any online policy's reach left out (the
 * other pages of one request), and with every first read of a key nothing
 * named left out, where a trace has any: undefined otherwise.
 */
export function withinReachTable(r: ReplayReport): Table | undefined {
  if (!r.policies.some((p) => p.outOfReachReads.reads > 0 || p.unnamedReads.reads > 0)) return undefined;
  const without = (p: PolicyMetrics, c: RateCount): number =>
    (p.hits - c.hits) / Math.max(1, p.reads - c.reads);
  const within = (p: PolicyMetrics): number => without(p, p.outOfReachReads);
  const named = (p: PolicyMetrics): number => without(p, p.unnamedReads);
  const oracle = oracleOf(r);
  const vs = (p: PolicyMetrics, of: (p: PolicyMetrics) => number): string =>
    oracle !== undefined && of(oracle) > 0 ? `${(of(p) / of(oracle)).toFixed(2)}x` : "-";
  return {
    id: "within-reach",
    title: "Within reach: hit rates without the reads no online policy can serve first",
    headers: withinReachColumns.map((c) => c.term),
    columns: withinReachColumns,
    rows: r.policies.map((p) => [
      p.policy,
      pct(p.outOfReachReads.reads / Math.max(1, p.reads)),
      int(p.outOfReachReads.hits),
      pct(within(p)),
      vs(p, within),
      pct(p.unnamedReads.reads / Math.max(1, p.reads)),
      int(p.unnamedReads.hits),
      vs(p, named),
    ]),
  };
}

export function byReasonTable(r: ReplayReport): Table {
  const rows: string[][] = [];
  for (const p of r.policies)
    for (const [reason, c] of Object.entries(p.byReason))
      rows.push([
        p.policy,
        reason,
        int(c.computes),
        int(c.used),
        int(c.wasted),
        int(c.late),
        int(c.hits),
        pct(c.hitShare),
      ]);
  return {
    id: "by-reason",
    title: "Computes and hits by the reason that put the result there",
    headers: byReasonColumns.map((c) => c.term),
    columns: byReasonColumns,
    rows,
  };
}

/**
 * The probabilities ahead computes carried against the share of their
 * results read, per reason and tenth of probability, where any policy gave
 * its computes probabilities: undefined otherwise.
 */
export function calibrationTable(r: ReplayReport): Table | undefined {
  const rows: string[][] = [];
  for (const p of r.policies)
    for (const b of p.calibration)
      rows.push([
        p.policy,
        b.reason,
        `${b.lower.toFixed(1)}-${(b.lower + 0.1).toFixed(1)}`,
        int(b.resolved),
        b.meanProbability.toFixed(2),
        b.readShare.toFixed(2),
      ]);
  if (rows.length === 0) return undefined;
  return {
    id: "calibration",
    title: "Calibration: the chance of a read each ahead compute was given, against the share read",
    headers: calibrationColumns.map((c) => c.term),
    columns: calibrationColumns,
    rows,
  };
}
