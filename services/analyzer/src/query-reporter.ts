import { type Link, TraceFlags, trace } from "@opentelemetry/api";
import { domainAttribute as attr, runQuietly, withRootSpan } from "@prescient/tracing";
import type { QueryEventInput } from "./core/events.js";

/** Lookups a report's span links to at most (the SDK's default link limit). */
const maxLinks = 128;

/**
 * The cache's side of the query log: lookups are reported into a bounded
 * buffer and shipped to the analyzer in batches, asynchronously, one batch
 * in flight at a time. `report` never blocks and never throws: when the
 * buffer is full (a slow or absent analyzer), events are dropped and
 * counted, and a failed batch is dropped and counted too, because a lookup
 * must never wait for analytics.
 */
export interface QueryReporterOptions {
  /** Events buffered at most; beyond it they are dropped. Default 10,000. */
  maxBuffer: number;
  /** Events per batch sent. Default 500. */
  batchSize: number;
  /** Longest an event waits for a batch to fill. Default 250 ms. */
  flushIntervalMs: number;
}

export const queryReporterDefaults: Readonly<QueryReporterOptions> = {
  maxBuffer: 10_000,
  batchSize: 500,
  flushIntervalMs: 250,
};

export type QuerySink = (events: QueryEventInput[]) => Promise<unknown>;

export interface QueryReporterStats {
  reported: number;
  sent: number;
  /** Dropped because the buffer was full. */
  dropped: number;
  /** Lost with a batch the analyzer did not take. */
  failed: number;
  buffered: number;
}

export class QueryReporter {
  readonly #sink: QuerySink;
  readonly #o: QueryReporterOptions;
  #buffer: QueryEventInput[] = [];
  #inFlight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Sampled lookups among those buffered, for the next batch's span. */
  #links: Link[] = [];
  readonly #stats = { reported: 0, sent: 0, dropped: 0, failed: 0 };

  constructor(sink: QuerySink, options?: Partial<QueryReporterOptions>) {
    this.#sink = sink;
    this.#o = { ...queryReporterDefaults, ...options };
  }

  get stats(): QueryReporterStats {
    return { ...this.#stats, buffered: this.#buffer.length };
  }

  report(event: QueryEventInput): void {
    if (this.#closed || this.#buffer.length >= this.#o.maxBuffer) {
      this.#stats.dropped++;
      return;
    }
    this.#stats.reported++;
    this.#buffer.push(event);
    if (this.#links.length < maxLinks) {
      const span = trace.getActiveSpan()?.spanContext();
      if (span !== undefined && (span.traceFlags & TraceFlags.SAMPLED) !== 0)
        this.#links.push({ context: span });
    }
    if (this.#buffer.length >= this.#o.batchSize) this.#kick();
    else if (this.#timer === undefined) {
      // Quiet: the timer would otherwise carry this lookup's context, and the batch would join its trace.
      this.#timer = runQuietly(() =>
        setTimeout(() => {
          this.#timer = undefined;
          this.#kick();
        }, this.#o.flushIntervalMs),
      );
      this.#timer.unref();
    }
  }

  /** Sends everything buffered now; resolves when it has been sent (or dropped). */
  async flush(): Promise<void> {
    while (this.#buffer.length > 0 || this.#inFlight !== undefined) {
      this.#kick();
      await this.#inFlight;
    }
  }

  /** Flushes, then refuses further reports (they count as dropped). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  #kick(): void {
    if (this.#inFlight !== undefined || this.#buffer.length === 0) return;
    const batch = this.#buffer.splice(0, this.#o.batchSize);
    const links = this.#links;
    this.#links = [];
    // A batch serves many lookups: its own trace, linked to the sampled ones (kept when any was).
    this.#inFlight = withRootSpan(
      "cache.report_queries",
      { [attr.batchSize]: batch.length },
      () => this.#sink(batch),
      {
        links,
      },
    ).then(
      () => {
        this.#stats.sent += batch.length;
      },
      () => {
        this.#stats.failed += batch.length;
      },
    );
    void this.#inFlight.finally(() => {
      this.#inFlight = undefined;
      if (this.#buffer.length >= this.#o.batchSize) this.#kick();
      else if (this.#buffer.length > 0 && this.#timer === undefined && !this.#closed) {
        this.#timer = runQuietly(() =>
          setTimeout(() => {
            this.#timer = undefined;
            this.#kick();
          }, this.#o.flushIntervalMs),
        );
        this.#timer.unref();
      }
    });
  }
}
