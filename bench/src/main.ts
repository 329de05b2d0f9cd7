import { type BenchReport, printReport, writeReport } from "./report.js";

/**
 * `npm run bench -- <name> [...]`: runs each named benchmark, prints its
 * table and writes bench-results/<name>.json. With no name, lists them.
 */
const benchmarks: Record<string, () => Promise<{ run(): Promise<BenchReport> }>> = {
  cache: () => import("./cache.js"),
  "cache-expiries": () => import("./cache-expiries.js"),
  "cache-budget": () => import("./cache-budget.js"),
  "cache-churn": () => import("./cache-churn.js"),
  "cache-sweep": () => import("./cache-sweep.js"),
  analyzer: () => import("./analyzer.js"),
  "analyzer-replicas": () => import("./analyzer-replicas.js"),
  "analyzer-vs-commit": () => import("./analyzer-vs-commit.js"),
  predictor: () => import("./predictor.js"),
  "executor-queue": () => import("./executor-queue.js"),
  evaluator: () => import("./evaluator.js"),
  "prediction-targets": () => import("./prediction-targets.js"),
  executor: () => import("./executor.js"),
  precomputer: () => import("./precomputer.js"),
  "large-requests": () => import("./large-requests.js"),
  "redis-cluster": () => import("./redis-cluster.js"),
};

const names = process.argv.slice(2);
if (names.length === 0) {
  process.stdout.write(`usage: npm run bench -- <${Object.keys(benchmarks).join("|")}> [...]\n`);
  process.exit(2);
}
for (const name of names) {
  const load = benchmarks[name];
  if (load === undefined) {
    process.stderr.write(
      `unknown benchmark ${JSON.stringify(name)}; known: ${Object.keys(benchmarks).join(", ")}\n`,
    );
    process.exit(2);
  }
  const report = await (await load()).run();
  printReport(report);
  process.stdout.write(`wrote ${writeReport(report)}\n`);
}
