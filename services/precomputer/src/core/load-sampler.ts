import { type Clock, errorMessage } from "@prescient/core";
import { type LoadSample, noLoad } from "./ports.js";
import type { PrecomputerDeps, PrecomputerOptions } from "./precomputer-deps.js";
import type { RareWarnings } from "./rare-warnings.js";

/**
 * The live load the budget backs off on, sampled at most once per
 * `loadMaxAgeMs`: every enqueue of background work asks, and the probe is a
 * round of peer calls. A failing probe reads as no signal, so the budget
 * keeps working without back-off rather than stopping.
 */
export class LoadSampler {
  #last: { at: number; sample: LoadSample } | undefined;

  constructor(
    private readonly deps: Pick<PrecomputerDeps, "load">,
    private readonly options: Pick<PrecomputerOptions, "loadMaxAgeMs">,
    private readonly clock: Clock,
    private readonly warnings: RareWarnings,
  ) {}

  sample(): Promise<LoadSample> {
    const now = this.clock.now();
    // A recent sample is answered as is (an async function would cost a frame per background enqueue).
    if (this.#last !== undefined && now - this.#last.at < this.options.loadMaxAgeMs)
      return Promise.resolve(this.#last.sample);
    return this.#probe(now);
  }

  async #probe(now: number): Promise<LoadSample> {
    let sample: LoadSample = {};
    try {
      sample = await (this.deps.load ?? noLoad).sample();
    } catch (e) {
      this.warnings.warn(
        "load",
        { err: errorMessage(e) },
        "load probe failed; budget runs without load signals",
      );
    }
    this.#last = { at: now, sample };
    return sample;
  }
}
