import { InvalidArgumentError, validateTenant } from "@prescient/core";
import { type LaunchInput, validateLaunch } from "./core/launches.js";
import type { AnalyzerSettings } from "./settings.js";
import type { AnalyzerStore, LaunchRecord } from "./store/analyzer-store.js";

/** Registers launches (known demand ahead of time) and lists the upcoming ones. */
export class LaunchQueries {
  readonly #settings: AnalyzerSettings;
  readonly #store: AnalyzerStore;

  constructor(settings: AnalyzerSettings, store: AnalyzerStore) {
    this.#settings = settings;
    this.#store = store;
  }

  async registerLaunch(input: LaunchInput): Promise<LaunchRecord> {
    const launch = validateLaunch(input, this.#settings.clock.now());
    await this.#store.putLaunch(launch);
    return launch;
  }

  async upcomingLaunches(hoursAhead: number, tenant: string): Promise<LaunchRecord[]> {
    const hours = hoursAhead === 0 ? 24 : hoursAhead;
    if (!Number.isFinite(hours) || hours < 0 || hours > 366 * 24)
      throw new InvalidArgumentError("hours_ahead must be from 0 to 8784 (a year); 0 means 24");
    const now = this.#settings.clock.now();
    return this.#store.launchesBetween(
      now,
      now + hours * 3_600_000,
      tenant === "" ? undefined : validateTenant(tenant),
    );
  }
}
