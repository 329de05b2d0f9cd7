import { kitRegistry } from "@prescient/kit";
import { Gauge, type Registry } from "prom-client";
import type { Analyzer } from "../analyzer.js";

/**
 * The analyzer's Prometheus gauges of what it learned. No tenant label:
 * tenants are client input, so their count is unbounded; per-tenant figures
 * are the LearnedRules RPC's (and `prescient rules`). The gauges are read
 * when scraped, from the analyzers running in this process (summed; `prescient
 * up` runs one), so ingestion pays nothing for them.
 */
export class AnalyzerMetrics {
  static #byRegistry = new WeakMap<Registry, AnalyzerMetrics>();

  static for(registry: Registry = kitRegistry): AnalyzerMetrics {
    let metrics = AnalyzerMetrics.#byRegistry.get(registry);
    if (metrics === undefined) {
      metrics = new AnalyzerMetrics(registry);
      AnalyzerMetrics.#byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  readonly #analyzers = new Set<Analyzer>();

  private constructor(registry: Registry) {
    const analyzers = this.#analyzers;
    const sum = (pick: (a: Analyzer) => number): number => {
      let n = 0;
      for (const a of analyzers) n += pick(a);
      return n;
    };
    new Gauge({
      name: "prescient_analyzer_learned_rules",
      help: "Learned fan-out rules (tenant x event type) with enough support to be offered to the precomputer.",
      registers: [registry],
      collect() {
        this.set(sum((a) => a.learnedRuleCount()));
      },
    });
    new Gauge({
      name: "prescient_analyzer_relation_subjects",
      help: "Users and entities (per tenant) whose entity relations the analyzer holds.",
      registers: [registry],
      collect() {
        this.set(sum((a) => a.relationSubjectCount()));
      },
    });
  }

  /** Counts `analyzer` in the gauges until the returned function is called. */
  watch(analyzer: Analyzer): () => void {
    this.#analyzers.add(analyzer);
    return () => this.#analyzers.delete(analyzer);
  }
}
