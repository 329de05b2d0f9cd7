/**
 * Cooperative time slicing for work that grows with a request: a 16 MB batch
 * handled in one synchronous stretch would hold the event loop, and with it
 * every other call and health check of the process, for hundreds of ms.
 * Loops over a request's items call `tick()`; once a slice has run its time,
 * the loop yields one macrotask turn (setImmediate, so I/O is served) and
 * goes on. Small requests never yield: a tick is one clock read.
 */
export class TimeSlicer {
  #since = performance.now();

  /** @param sliceMs the longest stretch between yields. Default 8 ms. */
  constructor(readonly sliceMs = 8) {}

  /** Whether this slice has run its time. */
  due(): boolean {
    return performance.now() - this.#since >= this.sliceMs;
  }

  /** Yields one macrotask turn and starts a new slice. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#since = performance.now();
  }

  /** Yields to the event loop if this slice has run its time; otherwise resolves at once. */
  async tick(): Promise<void> {
    if (this.due()) await this.pause();
  }
}

/** `items.map(fn)`, yielding between items whenever a slice has run its time. */
export async function mapInSlices<T, R>(
  items: readonly T[],
  fn: (item: T, index: number) => R,
  slicer: TimeSlicer = new TimeSlicer(),
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    out[i] = fn(items[i] as T, i);
    // Not even a microtask turn unless a slice is due: a small batch runs exactly as a plain map would.
    if (slicer.due()) await slicer.pause();
  }
  return out;
}
