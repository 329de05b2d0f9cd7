/**
 * The precompute budget: tokens accrue at `rate` per second up to `burst`,
 * and each ahead-of-time compute takes one. The burst is one TTL's worth by
 * default (see options.ts): a result can usefully be computed up to a TTL
 * before its read, so within a TTL, when the budget is spent does not matter;
 * that is also what makes the just-in-time oracle an upper bound.
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #at: number;
  #granted = 0;
  #refused = 0;

  constructor(ratePerSecond: number, burst: number, startMs: number) {
    this.rate = ratePerSecond;
    this.burst = Math.max(1, burst);
    this.#tokens = this.burst;
    this.#at = startMs;
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate);
      this.#at = now;
    }
  }

  available(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }

  take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) {
      this.#refused++;
      return false;
    }
    this.#tokens -= 1;
    this.#granted++;
    return true;
  }

  get granted(): number {
    return this.#granted;
  }

  get refused(): number {
    return this.#refused;
  }
}
