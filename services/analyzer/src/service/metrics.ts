import { kitRegistry } from "@prescient/kit";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Analyzer } from "../analyzer.js";
import type {
  AnalyzerObserver,
  EventKind,
  EventOutcome,
  LearnedStateOutcome,
  PredictionSource,
  RetrainResult,
} from "../analyzer-observer.js";

/**
 * The analyzer's Prometheus metrics. No tenant label: tenants are client
 * input, so their count is unbounded; per-tenant figures are the
 * LearnedRules RPC's (and `prescient rules`). The gauges are read when
 * scraped, from the analyzers running in this process (summed; `prescient
 * up` runs one), so ingestion pays nothing for them; the counters are fed
 * per batch through AnalyzerObserver. One instance per registry.
 */
export class AnalyzerMetrics implements AnalyzerObserver {
  static #byRegistry = new WeakMap<Registry, AnalyzerMetrics>();

  static for(registry: Registry = kitRegistry): AnalyzerMetrics {
    let metrics = AnalyzerMetrics.#byRegistry.get(registry);
    if (metrics === undefined) {
      metrics = new AnalyzerMetrics(registry);
      AnalyzerMetrics.#byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  readonly eventsTotal: Counter<"kind" | "outcome">;
  readonly retrains: Counter<"result">;
  readonly predictions: Counter<"source">;
  readonly storeErrors: Counter<"operation">;
  readonly forwards: Counter<"rpc" | "outcome">;
  readonly learnedStates: Counter<"outcome">;
  readonly ringMembers: Gauge;
  readonly #analyzers = new Set<Analyzer>();
  /** Label children, resolved once per label value. */
  readonly #events = new Map<string, Counter.Internal>();
  readonly #sources = new Map<string, Counter.Internal>();

  private constructor(registry: Registry) {
    const registers = [registry];
    const analyzers = this.#analyzers;
    const sum = (pick: (a: Analyzer) => number): number => {
      let n = 0;
      for (const a of analyzers) n += pick(a);
      return n;
    };
    new Gauge({
      name: "prescient_analyzer_learned_rules",
      help: "Learned fan-out rules (tenant x event type) with enough support to be offered to the precomputer.",
      registers,
      collect() {
        this.set(sum((a) => a.learnedRuleCount()));
      },
    });
    new Gauge({
      name: "prescient_analyzer_relation_subjects",
      help: "Users and entities (per tenant) whose entity relations the analyzer holds.",
      registers,
      collect() {
        this.set(sum((a) => a.relationSubjectCount()));
      },
    });
    new Gauge({
      name: "prescient_analyzer_sketch_entries",
      help: "Entries held by each bounded in-process sketch or map of the analyzer (each capped by its setting).",
      labelNames: ["sketch"] as const,
      registers,
      collect() {
        const totals = new Map<string, number>();
        for (const a of analyzers)
          for (const [sketch, n] of a.sketchSizes()) totals.set(sketch, (totals.get(sketch) ?? 0) + n);
        for (const [sketch, n] of totals) this.labels(sketch).set(n);
      },
    });
    this.eventsTotal = new Counter({
      name: "prescient_analyzer_events_total",
      help: "Events received, by kind (query, action, domain_event) and outcome (accepted; rejected by validation; dropped: valid but the store failed to take them).",
      labelNames: ["kind", "outcome"] as const,
      registers,
    });
    this.retrains = new Counter({
      name: "prescient_analyzer_retrain_total",
      help: "Next-action retraining calls, by result (trained a candidate; skipped: too little data or nothing changed; coalesced: within the minimum interval, answered with the last round's report; failed).",
      labelNames: ["result"] as const,
      registers,
    });
    this.predictions = new Counter({
      name: "prescient_analyzer_predictions_total",
      help: "Predicted items offered (actions, keys, entities, rules), by source.",
      labelNames: ["source"] as const,
      registers,
    });
    this.storeErrors = new Counter({
      name: "prescient_analyzer_store_errors_total",
      help: "Analyzer store operations that failed, by operation.",
      labelNames: ["operation"] as const,
      registers,
    });
    this.forwards = new Counter({
      name: "prescient_analyzer_forwarded_total",
      help: "Calls sent to the analyzer replica that owns their tenants, by RPC and outcome (forwarded; failed: that replica did not answer, so this one handled the part).",
      labelNames: ["rpc", "outcome"] as const,
      registers,
    });
    this.learnedStates = new Counter({
      name: "prescient_analyzer_learned_state_records_total",
      help: "Per-tenant records of learned state (rules, next reads, relations, successor chains), by outcome: saved to the store; restored at start; ignored at start, unreadable (relearned from traffic). Failed saves are store errors (operation putLearning).",
      labelNames: ["outcome"] as const,
      registers,
    });
    this.ringMembers = new Gauge({
      name: "prescient_analyzer_ring_members",
      help: "Analyzer replicas in this replica's view of the tenant ring (0: no ring, a single replica).",
      registers,
    });
  }

  readonly forwarded = (rpc: string, outcome: "forwarded" | "failed"): void => {
    this.forwards.labels(rpc, outcome).inc();
  };

  /** Counts `analyzer` in the gauges until the returned function is called. */
  watch(analyzer: Analyzer): () => void {
    this.#analyzers.add(analyzer);
    return () => this.#analyzers.delete(analyzer);
  }

  events(kind: EventKind, outcome: EventOutcome, n: number): void {
    if (n <= 0) return;
    const id = `${kind}/${outcome}`;
    let child = this.#events.get(id);
    if (child === undefined) {
      child = this.eventsTotal.labels(kind, outcome);
      this.#events.set(id, child);
    }
    child.inc(n);
  }

  retrained(result: RetrainResult): void {
    this.retrains.labels(result).inc();
  }

  offered(source: PredictionSource, n: number): void {
    if (n <= 0) return;
    let child = this.#sources.get(source);
    if (child === undefined) {
      child = this.predictions.labels(source);
      this.#sources.set(source, child);
    }
    child.inc(n);
  }

  learnedState(outcome: LearnedStateOutcome, records: number): void {
    if (records > 0) this.learnedStates.labels(outcome).inc(records);
  }

  /** The `countFailures` callback that feeds the store error counter. */
  readonly onStoreError = (operation: string): void => {
    this.storeErrors.labels(operation).inc();
  };
}
