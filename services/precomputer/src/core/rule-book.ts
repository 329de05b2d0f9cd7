import { type Clock, errorMessage } from "@prescient/core";
import type { PrecomputerConfig, RuleTarget, TriggerRule } from "./config.js";
import type { LearnedRuleView } from "./ports.js";
import type { PrecomputerDeps } from "./precomputer-deps.js";
import type { RareWarnings } from "./rare-warnings.js";
import { withTimeout } from "./with-timeout.js";

export interface RuleBookOptions {
  /** Learned rules join the configured ones. Default true. */
  learnRules: boolean;
  /** How often the learned rules are fetched from the analyzer. Default 1 minute. */
  learnedRulesRefreshMs: number;
  /** How long a fetch may take before the trigger goes on with the rules it has. */
  predictionTimeoutMs: number;
  /** Related entities per `related` target of a learned rule. Default 3. */
  learnedRelatedLimit: number;
  /** A learned target joins a rule at this share of events followed by its read or above. Default 0.2. */
  learnedMinProbability: number;
}

/**
 * The rule each event fans out by: the configured rule, joined by what the
 * analyzer learned for the event's tenant (a configured target wins over a
 * learned one of the same task type). Where the analyzer has seen enough of
 * the event, each target carries the share of events its read followed, so
 * the budget spends by expected value on configured targets too (one whose
 * results are never read weighs 0). Learned rules are fetched at most
 * once per `learnedRulesRefreshMs`; a failing analyzer leaves the rules as
 * they were, so triggers never wait on it for long.
 */
export class RuleBook {
  #learned = new Map<string, LearnedRuleView>();
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #fetching: Promise<void> | undefined;

  constructor(
    private readonly deps: Pick<PrecomputerDeps, "analyzer">,
    private readonly config: PrecomputerConfig,
    private readonly clock: Clock,
    private readonly options: RuleBookOptions,
    private readonly isTaskType: (name: string) => boolean,
    private readonly warnings: RareWarnings,
  ) {}

  /** The rule of each event, undefined where neither a configured nor a learned one exists. */
  async rulesFor(
    events: ReadonlyArray<{ tenant: string; type: string }>,
  ): Promise<(TriggerRule | undefined)[]> {
    await this.refresh();
    return events.map((e) => this.ruleFor(e.tenant, e.type));
  }

  /** Fetches the learned rules where they are due (at most once per `learnedRulesRefreshMs`), for ruleFor. */
  async refresh(): Promise<void> {
    if (this.options.learnRules) await this.#refresh();
  }

  ruleFor(tenant: string, event: string): TriggerRule | undefined {
    const configured = this.config.rules.get(event);
    const learned = this.options.learnRules ? this.#learned.get(`${tenant}\u0000${event}`) : undefined;
    if (learned === undefined) return configured;
    const share = new Map(learned.targets.map((t) => [`${t.taskType}\u0000${t.keyBy}`, t.probability]));
    // A configured target is computed as configured, weighed by how often its result is read after the event.
    const weighed = configured?.targets.map((t) => ({
      ...t,
      probability: share.get(`${t.taskType}\u0000${t.keyBy}`) ?? 0,
    }));
    const taken = new Set(configured?.targets.map((t) => t.taskType));
    const extra: RuleTarget[] = [];
    for (const t of learned.targets) {
      if (t.probability < this.options.learnedMinProbability) continue;
      if (taken.has(t.taskType) || !this.isTaskType(t.taskType)) continue;
      taken.add(t.taskType);
      extra.push({
        taskType: t.taskType,
        priority: this.config.predicted.priority,
        keyBy: t.keyBy,
        probability: t.probability,
        ...(t.keyBy === "related" ? { relatedLimit: this.options.learnedRelatedLimit } : {}),
      });
    }
    if (configured !== undefined) return { ...configured, targets: [...(weighed ?? []), ...extra] };
    if (extra.length === 0) return undefined;
    return {
      event,
      source: "learned",
      targets: extra,
      predictNextActions: false,
      predictNextKeys: false,
      skipFresh: true,
      description: `learned from ${learned.support.toFixed(0)} recent events`,
    };
  }

  configuredEvents(): string[] {
    return [...this.config.rules.keys()];
  }

  /** Whether events of this type may be triggered although no rule is configured (they are learned from). */
  acceptsUnconfigured(): boolean {
    return this.options.learnRules;
  }

  async #refresh(): Promise<void> {
    if (this.clock.now() - this.#fetchedAt < this.options.learnedRulesRefreshMs) return;
    this.#fetching ??= this.#fetch().finally(() => {
      this.#fetching = undefined;
    });
    await this.#fetching;
  }

  async #fetch(): Promise<void> {
    this.#fetchedAt = this.clock.now();
    try {
      const rules = await withTimeout(
        this.deps.analyzer.learnedRules(),
        this.options.predictionTimeoutMs,
        "the analyzer's learned rules",
      );
      this.#learned = new Map(rules.map((r) => [`${r.tenant}\u0000${r.event}`, r]));
    } catch (e) {
      this.warnings.warn(
        "learned-rules",
        { err: errorMessage(e) },
        "analyzer unavailable: learned rules not refreshed",
      );
    }
  }
}
