import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import {
  generate,
  type PolicyMetrics,
  RowsTraceSource,
  replay,
  type WorkloadKind,
  workloadKinds,
} from "@prescient/evaluator";
import { type BenchReport, type BenchResult, newReport, result } from "./report.js";

/**
 * Issue 11's effectiveness targets, on generated ad-platform workloads: three
 * days per seed, each replayed with reactive, prescient and the oracle at the
 * trace's default budget and at 4× it, so every figure has the oracle of the
 * same replay as its baseline. Per seed it prints prescient's hit rate
 * against the oracle's at both budgets (target 0.9×), the same on named
 * reads only (the first reads of entities nothing named before are out of
 * any learning policy's reach: informational), the reachable hit rate
 * (every named read a hit) against the oracle's, which says whether 0.9× is
 * within any such policy's reach at all, waste against the 30% bound,
 * the rise from the default budget to 4× against half the oracle's, and the
 * share of hits that predicted-action tasks bring (target 5%, at both
 * budgets); then how many seeds meet each. About 40 s a seed.
 *
 * The seeds (BENCH_TARGET_SEEDS, "61-68" by default; a list like "5,7,9"
 * or a range) should be ones no shipped setting was chosen on: settings were
 * chosen on seeds 1-2 and 71-76, and 1, 2, 21, 22, 31-35, 41-44 and 51-56
 * have been looked at by sessions (61-68, the defaults, and 111-118, 131-138,
 * 151-158 and 161-168 were only reported on, with no setting chosen on
 * them). Once a setting is chosen on the defaults, move them.
 * BENCH_TARGET_DAYS sets the length (default 3, as the workload
 * runs: a replay's budget bucket starts full with the longest TTL's worth,
 * a day for these types, so a one-day replay has two days' budget to spend
 * and a three-day one four), and BENCH_TARGET_KIND the workload kind (default random-adplatform; the
 * generated `adplatform`, whose structure is fixed, is the other ad platform).
 */
/** The generated kinds the targets are about: the ad platforms. */
const adPlatforms = workloadKinds.filter((k) => k === "random-adplatform" || k === "adplatform");

const KIND = workloadKind(process.env.BENCH_TARGET_KIND ?? "random-adplatform");
const SEEDS = parseSeeds(process.env.BENCH_TARGET_SEEDS ?? "61-68");
const DAYS = Number(process.env.BENCH_TARGET_DAYS ?? "3");
if (!Number.isFinite(DAYS) || DAYS <= 0 || DAYS > 30) throw new Error("BENCH_TARGET_DAYS must be in (0, 30]");
const RATIO = 0.9;
const WASTE = 0.3;
const PREDICTED_SHARE = 0.05;
const MORE_BUDGET = 4;

function workloadKind(name: string): WorkloadKind {
  const kind = adPlatforms.find((k) => k === name);
  if (kind === undefined) throw new Error(`BENCH_TARGET_KIND must be one of ${adPlatforms.join(", ")}`);
  return kind;
}

function parseSeeds(text: string): number[] {
  const seeds = text.split(",").flatMap((part) => {
    const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
    if (range !== null) {
      const [first, last] = [Number(range[1]), Number(range[2])];
      return last < first || last - first >= 100
        ? [Number.NaN]
        : Array.from({ length: last - first + 1 }, (_, i) => first + i);
    }
    return [part.trim() === "" ? Number.NaN : Number(part.trim())];
  });
  if (seeds.length === 0 || seeds.length > 100 || seeds.some((s) => !Number.isSafeInteger(s) || s < 0))
    throw new Error(
      "BENCH_TARGET_SEEDS must be up to 100 non-negative integers: a list (5,7,9) or a range (61-64)",
    );
  return seeds;
}

const log = (line: string): void => {
  process.stdout.write(`targets: ${line}\n`);
};

/**
 * The highest hit rate a policy can reach that computes nothing for an
 * entity before some record names it: every named read a hit, and no
 * never-named read (the first read of an entity nothing named before). The
 * same for every policy of a replay, since it depends on the trace alone.
 */
const reachableHitRate = (p: PolicyMetrics): number =>
  p.reads === 0 ? 0 : 1 - p.unnamedReads.reads / p.reads;

/** Hit rate on the reads some earlier record named (see PolicyMetrics.unnamedReads). */
const namedHitRate = (p: PolicyMetrics): number => {
  const reads = p.reads - p.unnamedReads.reads;
  return reads === 0 ? 0 : (p.hits - p.unnamedReads.hits) / reads;
};

interface Budgeted {
  prescient: PolicyMetrics;
  oracle: PolicyMetrics;
  reactive: PolicyMetrics;
}

/** The shipped task types (TTLs, rules, schedules), as `prescient replay` loads them: read once. */
const taskTypes = loadTaskTypes(defaultTaskTypesPath);

async function replayAt(rows: RowsTraceSource, budgetPerSecond: number | undefined) {
  const report = await replay(rows, {
    policies: ["reactive", "prescient", "oracle"],
    taskTypes,
    budgetPerSecond,
  });
  const of = (name: string): PolicyMetrics => {
    const p = report.policies.find((x) => x.policy === name);
    if (p === undefined) throw new Error(`the replay has no ${name} policy`);
    return p;
  };
  const out: Budgeted = { prescient: of("prescient"), oracle: of("oracle"), reactive: of("reactive") };
  return { out, budgetPerSecond: report.settings.budgetPerSecond };
}

/** The share of prescient's hits that predicted-action tasks put there. */
const predictedShare = (b: Budgeted): number => b.prescient.byReason.predicted?.hitShare ?? 0;

/** Whether a result meets its target, as the printed table says. */
const meets = (r: BenchResult): boolean => r.target_ratio !== null && r.ratio >= r.target_ratio;

interface Met {
  ratio: boolean;
  ratio4x: boolean;
  /** Whether the 0.9x ratio is within reach at all (reachableHitRate against the oracle's). */
  reachable: boolean;
  reachable4x: boolean;
  waste: boolean;
  waste4x: boolean;
  rise: boolean;
  predicted: boolean;
}

/**
 * One budget's results: hit rate (targeted), the reachable hit rate and the hit rate on named reads
 * (informational), waste, predicted share.
 */
function budgetResults(c: string, b: Budgeted) {
  const oracle = "oracle, same replay";
  return {
    hitRate: result({
      case: c,
      metric: "hit rate",
      unit: "share",
      value: b.prescient.hitRate,
      baseline: oracle,
      baseline_value: b.oracle.hitRate,
      target_ratio: RATIO,
    }),
    reach: result({
      case: c,
      metric: "reachable hit rate (every named read a hit)",
      unit: "share",
      value: reachableHitRate(b.prescient),
      baseline: oracle,
      baseline_value: b.oracle.hitRate,
      target_ratio: null,
    }),
    named: result({
      case: c,
      metric: "hit rate on named reads",
      unit: "share",
      value: namedHitRate(b.prescient),
      baseline: oracle,
      baseline_value: namedHitRate(b.oracle),
      target_ratio: null,
    }),
    waste: result({
      case: c,
      metric: "waste",
      unit: "share",
      value: b.prescient.waste,
      baseline: "issue 11 bound",
      baseline_value: WASTE,
      target_ratio: 1,
      lowerIsBetter: true,
    }),
    predicted: result({
      case: c,
      metric: "hits from predicted-action tasks",
      unit: "share",
      value: predictedShare(b),
      baseline: "issue 11 target",
      baseline_value: PREDICTED_SHARE,
      target_ratio: 1,
    }),
  };
}

function seedResults(seed: number, at1: Budgeted, at4: Budgeted): { results: BenchResult[]; met: Met } {
  const one = budgetResults(`seed ${seed}, default budget`, at1);
  const four = budgetResults(`seed ${seed}, ${MORE_BUDGET}x budget`, at4);
  // Both offset by a hundredth of a point, so that the ratio stays finite and an oracle that gains
  // nothing from more budget asks for no rise.
  const offset = 1e-4;
  const rise = result({
    case: `seed ${seed}, default -> ${MORE_BUDGET}x budget`,
    metric: "hit-rate rise (+0.0001)",
    unit: "share",
    value: at4.prescient.hitRate - at1.prescient.hitRate + offset,
    baseline: "half the oracle's rise (+0.0001)",
    baseline_value: (at4.oracle.hitRate - at1.oracle.hitRate) / 2 + offset,
    target_ratio: 1,
  });
  return {
    results: [...Object.values(one), ...Object.values(four), rise],
    met: {
      ratio: meets(one.hitRate),
      ratio4x: meets(four.hitRate),
      reachable: one.reach.ratio >= RATIO,
      reachable4x: four.reach.ratio >= RATIO,
      waste: meets(one.waste),
      waste4x: meets(four.waste),
      rise: meets(rise),
      predicted: meets(one.predicted) && meets(four.predicted),
    },
  };
}

export async function run(): Promise<BenchReport> {
  const results: BenchResult[] = [];
  const tally = new Map<keyof Met, number>();
  let allThree = 0;
  for (const seed of SEEDS) {
    const began = performance.now();
    const rows = new RowsTraceSource(`${KIND}-${seed}`, generate(KIND, seed, DAYS).rows);
    const first = await replayAt(rows, undefined);
    const more = await replayAt(rows, first.budgetPerSecond * MORE_BUDGET);
    const { results: r, met } = seedResults(seed, first.out, more.out);
    results.push(...r);
    for (const [k, v] of Object.entries(met) as [keyof Met, boolean][])
      tally.set(k, (tally.get(k) ?? 0) + (v ? 1 : 0));
    if (met.ratio && met.ratio4x && met.waste && met.waste4x) allThree++;
    const p = first.out.prescient;
    log(
      `seed ${seed}: ${(p.hitRate / first.out.oracle.hitRate).toFixed(3)}x / ` +
        `${(more.out.prescient.hitRate / more.out.oracle.hitRate).toFixed(3)}x the oracle, waste ` +
        `${p.waste.toFixed(3)} / ${more.out.prescient.waste.toFixed(3)}, reactive ${first.out.reactive.hitRate.toFixed(3)}, ` +
        `never-named reads ${(p.unnamedReads.reads / p.reads).toFixed(3)} (${((performance.now() - began) / 1000).toFixed(0)} s)`,
    );
  }
  const n = SEEDS.length;
  const count = (k: keyof Met): string => `${tally.get(k) ?? 0}/${n}`;
  log(
    `seeds meeting each target: ${RATIO}x at the default budget ${count("ratio")}, at ${MORE_BUDGET}x ${count("ratio4x")}; ` +
      `waste <= ${WASTE} ${count("waste")} and ${count("waste4x")}; all of those on one seed ${allThree}/${n}; ` +
      `rise ${count("rise")}; predicted-action share >= ${PREDICTED_SHARE} ${count("predicted")}`,
  );
  log(
    `seeds where ${RATIO}x is within reach at all (every named read a hit, no never-named one): ` +
      `at the default budget ${count("reachable")}, at ${MORE_BUDGET}x ${count("reachable4x")}`,
  );
  return newReport("prediction-targets", results);
}
