import type { IngestResult, QueryEvent, QueryEventInput } from "./core/events.js";

/** Events gathered into one store update by a query stream, at most. */
export const ingestBatchEvents = 8192;

/** See Analyzer.queryStream. `push` each message in order, then `end`; either throws the store's error. */
export class QueryStream {
  readonly #validate: (inputs: readonly QueryEventInput[], offset: number, into: QueryEvent[]) => void;
  readonly #apply: (events: QueryEvent[]) => Promise<void>;
  readonly #result: IngestResult;
  #pending: QueryEvent[] = [];
  #inFlight: Promise<void> | undefined;
  #failed: { error: unknown } | undefined;

  constructor(
    validate: (inputs: readonly QueryEventInput[], offset: number, into: QueryEvent[]) => void,
    apply: (events: QueryEvent[]) => Promise<void>,
    result: IngestResult,
  ) {
    this.#validate = validate;
    this.#apply = apply;
    this.#result = result;
  }

  /** Validates a message now; waits only while a full batch is already waiting for the store. */
  async push(inputs: readonly QueryEventInput[], offset: number): Promise<void> {
    this.#throwIfFailed();
    this.#validate(inputs, offset, this.#pending);
    while (this.#inFlight !== undefined && this.#pending.length >= ingestBatchEvents) await this.#inFlight;
    this.#throwIfFailed();
    if (this.#inFlight === undefined) this.#next();
  }

  /** Waits for every pushed event to be applied. */
  async end(): Promise<void> {
    while (this.#inFlight !== undefined) await this.#inFlight;
    this.#throwIfFailed();
  }

  #next(): void {
    if (this.#pending.length === 0 || this.#failed !== undefined) return;
    const batch =
      this.#pending.length <= ingestBatchEvents ? this.#pending : this.#pending.splice(0, ingestBatchEvents);
    if (batch === this.#pending) this.#pending = [];
    this.#inFlight = this.#apply(batch).then(
      () => {
        this.#result.accepted += batch.length;
        this.#inFlight = undefined;
        this.#next();
      },
      (error: unknown) => {
        this.#failed = { error };
        this.#inFlight = undefined;
      },
    );
  }

  #throwIfFailed(): void {
    if (this.#failed !== undefined) throw this.#failed.error;
  }
}
