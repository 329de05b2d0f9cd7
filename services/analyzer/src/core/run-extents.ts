/**
 * How far the runs of one kind of stream go: for each extent (the keys from
 * a run's lowest to its furthest), the decayed number of runs that reached
 * it. Of the runs that reached extent e, the share that went on to e + j is
 * the chance the current one does. So readahead offers nothing past where
 * runs of the kind stop (the eight pages of a fixed-size chunk) and keeps
 * offering far ahead where they go on (a file read to its end), which one
 * continuation share per read, raised to the j-th power, cannot tell apart.
 *
 * Runs still going count as far as they got. Extents up to 16 are counted
 * exactly, longer ones in buckets of half a doubling (the bucket of x counts
 * runs that reached its lower bound), up to 65,536; the last bucket holds
 * the rest. 41 numbers per kind of stream.
 */
const exact = 16;
const perDoubling = 2;
const bucketCount = exact + 12 * perDoubling + 1;

/** The bucket an extent falls in: its lower bound is at most the extent. */
export function extentBucket(extent: number): number {
  if (extent <= exact) return Math.max(0, Math.floor(extent));
  return Math.min(bucketCount - 1, exact + Math.floor(perDoubling * Math.log2(extent / exact)));
}

export class RunExtents {
  readonly #reached = new Float32Array(bucketCount);
  readonly #forget: number;

  /** `forget`: the weight the past keeps per new run, so a change in how far runs go is followed. */
  constructor(forget: number) {
    this.#forget = forget;
  }

  /** A run started: it has reached extent 1. */
  started(): void {
    const r = this.#reached;
    for (let i = 0; i < r.length; i++) r[i]! *= this.#forget;
    this.grew(0, 1);
  }

  /** A run grew from extent `from` to `to`. */
  grew(from: number, to: number): void {
    const last = extentBucket(to);
    for (let b = extentBucket(from) + 1; b <= last; b++) this.#reached[b]! += 1;
  }

  /** Decayed runs that reached `extent` (those of its bucket's lower bound). */
  reachedCount(extent: number): number {
    return this.#reached[extentBucket(extent)]!;
  }

  /**
   * The chance the run asking, at extent `from`, reaches `to`: the share of
   * the other runs that reached `from` and went on to `to`, with `prior`
   * (the caller's estimate without this evidence) weighing as one run, so a
   * kind with few runs seen starts from it. The asking run is among those
   * counted at `from`, and at `to` too when both fall in one bucket, but has
   * not reached `to`: it is left out of both.
   */
  reach(from: number, to: number, prior: number): number {
    if (to <= from) return 1;
    const atFrom = Math.max(0, this.reachedCount(from) - 1);
    const own = extentBucket(to) === extentBucket(from) ? 1 : 0;
    const atTo = Math.max(0, this.reachedCount(to) - own);
    return Math.min(1, (atTo + prior) / (atFrom + 1));
  }
}
