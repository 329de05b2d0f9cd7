/**
 * The mean stored size of each task type's results, as this process wrote
 * them: how the Redis store chooses to read a freshness check's expiries
 * from the values or from the TTLs (RedisStoreOptions.expiriesFromTtlMinBytes).
 * A moving mean, so a type whose results grow is followed; types past
 * `maxTypes` are not tracked (task types are configured, so few).
 */
export class ValueSizes {
  readonly #mean = new Map<string, number>();
  readonly #maxTypes: number;

  constructor(maxTypes = 1024) {
    this.#maxTypes = maxTypes;
  }

  observe(taskType: string, bytes: number): void {
    const mean = this.#mean.get(taskType);
    if (mean !== undefined) this.#mean.set(taskType, mean + (bytes - mean) / 16);
    else if (this.#mean.size < this.#maxTypes) this.#mean.set(taskType, bytes);
  }

  /** The type's mean stored size in bytes; undefined until this process has written one. */
  meanOf(taskType: string): number | undefined {
    return this.#mean.get(taskType);
  }
}
