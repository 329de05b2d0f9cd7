import { type Clock, errorMessage } from "@prescient/core";
import type { PrecomputerCounters } from "./counters.js";
import type { PrecomputerDeps, PrecomputerOptions } from "./precomputer-deps.js";
import type { RareWarnings } from "./rare-warnings.js";

/** Skip reason when the cache could not say what is fresh (nothing was skipped). */
export const freshnessUnknown = "freshness_unknown";

/**
 * Asks the cache when stored results expire, in batches of its LookupMany
 * limit. A failing cache answers "unknown" rather than failing the caller:
 * without it the precomputer computes more than it needs, never less.
 */
export class FreshnessLookup {
  constructor(
    private readonly deps: Pick<PrecomputerDeps, "cache">,
    private readonly options: Pick<PrecomputerOptions, "freshnessBatch">,
    private readonly clock: Clock,
    private readonly counters: PrecomputerCounters,
    private readonly warnings: RareWarnings,
  ) {}

  /** Keys whose stored result is still fresh now. A failing cache skips nothing. */
  freshKeys(keys: readonly string[], marginMs: number): Promise<Set<string>> {
    // Nothing to look up (a readahead run with no keys, every second): no async frame either.
    if (keys.length === 0) return Promise.resolve(new Set<string>());
    return this.#freshKeys(keys, marginMs).then((fresh) => fresh ?? new Set<string>());
  }

  /** As freshKeys, but undefined when the cache could not answer (so that no one learns from the silence). */
  freshKeysOrUnknown(keys: readonly string[], marginMs: number): Promise<Set<string> | undefined> {
    if (keys.length === 0) return Promise.resolve(new Set<string>());
    return this.#freshKeys(keys, marginMs);
  }

  async #freshKeys(keys: readonly string[], marginMs: number): Promise<Set<string> | undefined> {
    const expiries = await this.expiries(keys);
    if (expiries === undefined) {
      this.counters.skipped(freshnessUnknown);
      return undefined;
    }
    const fresh = new Set<string>();
    const now = this.clock.now();
    keys.forEach((k, i) => {
      const e = expiries[i];
      if (e !== undefined && e - now > marginMs) fresh.add(k);
    });
    return fresh;
  }

  /** Each key's expiry (undefined: not stored), or undefined when the cache did not answer. */
  async expiries(keys: readonly string[]): Promise<(number | undefined)[] | undefined> {
    try {
      const out: (number | undefined)[] = [];
      for (let i = 0; i < keys.length; i += this.options.freshnessBatch)
        out.push(...(await this.deps.cache.expiries(keys.slice(i, i + this.options.freshnessBatch))));
      return out;
    } catch (e) {
      this.warnings.warn(
        "freshness",
        { err: errorMessage(e) },
        "cache unavailable: cannot tell what is fresh; nothing is skipped",
      );
      return undefined;
    }
  }
}
