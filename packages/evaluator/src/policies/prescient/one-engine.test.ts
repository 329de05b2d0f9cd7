import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The replay's `prescient` must be the mesh, not a copy of it: policy lives
 * in the services, and this folder only wires them to simulated ports. These
 * checks fail when planning code (a learner, a job body, a ranking) is
 * imported into, or written in, the evaluator's policy.
 */
const dir = new URL(".", import.meta.url).pathname;
const sources = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));

/** What the policy may take from each service: orchestration, stores, ports and their types. */
const allowed: Record<string, readonly string[]> = {
  "@prescient/precomputer": [
    "Precomputer",
    "ScheduleRunner",
    "MemoryRunStore",
    "inProcessAnalyzer",
    "parsePrecomputerConfig",
    "silentLog",
    "EntityRef",
    "FreshnessSource",
    "LoadProbe",
    "NearExpiry",
    "PlannedTask",
    "PrecomputerConfig",
    "TaskSink",
    "Timers",
  ],
  "@prescient/analyzer": [
    "Analyzer",
    "MemoryAnalyzerStore",
    "emptyIngestResult",
    "importNextActionOnnx",
    "queryReporterDefaults",
    "ActionEventInput",
    "AnalyzerSettings",
    "QueryEventInput",
    "QueryReporterOptions",
    "ModelPublisher",
    "NextActionModel",
    "NextActionScorer",
    "PublishedModel",
    "ScoreRequest",
  ],
};

function importsFrom(source: string, module: string): string[] {
  const names: string[] = [];
  const pattern = new RegExp(`import\\s*(?:type\\s*)?\\{([^}]*)\\}\\s*from\\s*"${module}"`, "g");
  for (const m of source.matchAll(pattern))
    for (const part of (m[1] ?? "").split(","))
      names.push(
        part
          .trim()
          .replace(/^type\s+/, "")
          .split(/\s+as\s+/)[0]!
          .trim(),
      );
  return names.filter((n) => n !== "");
}

describe("one engine: the replay runs the services' own policy", () => {
  it("holds only the wiring, the simulated ports, the model ports and the replay's settings", () => {
    expect(sources.sort()).toEqual([
      "model-ports.ts",
      "prescient-policy.ts",
      "settings.ts",
      "simulated-ports.ts",
    ]);
  });

  for (const file of sources)
    it(`${file} imports no planning code from the services`, () => {
      const text = readFileSync(join(dir, file), "utf8");
      for (const [module, names] of Object.entries(allowed))
        for (const name of importsFrom(text, module))
          expect(names, `${file}: ${name} from ${module}`).toContain(name);
      // No precomputer or analyzer internals reached by path.
      expect(text).not.toMatch(/from\s+"@prescient\/(precomputer|analyzer)\/[^"]+"/);
    });

  it("writes no ranking, learning or planning of its own", () => {
    const text = sources.map((f) => readFileSync(join(dir, f), "utf8")).join("\n");
    // The marks of policy: plans, rules, rankings, thresholds and learned state.
    for (const mark of [
      /\bplan[A-Z]\w*\(/,
      /\bselectTopN\b/,
      /\brefreshHorizonMs\b/,
      /class \w*Learner\b/,
      /minShare|minSupport|minConfidence|minDemand/,
      /\.sort\(/,
    ])
      expect(text).not.toMatch(mark);
  });

  it("the importer check catches a planning import", () => {
    const bad = 'import { planFanOut, Precomputer } from "@prescient/precomputer";';
    const names = importsFrom(bad, "@prescient/precomputer");
    expect(names).toEqual(["planFanOut", "Precomputer"]);
    expect(allowed["@prescient/precomputer"]).not.toContain("planFanOut");
  });
});
