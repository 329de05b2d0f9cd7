import { type Clock, errorMessage } from "@prescient/core";
import type { ScheduleSpec } from "./config.js";
import type { PrecomputerLog } from "./ports.js";
import {
  type ClaimOutcome,
  type ClaimRequest,
  type RunRecord,
  type RunStore,
  runHistoryLimit,
} from "./run-store.js";

/** What a job reports when it finishes. */
export interface JobResult {
  items: number;
  note: string;
}

export interface JobContext {
  runKey: string;
  windowStart: number;
  /** Aborted when the lease is lost to a takeover: the job should stop enqueueing. */
  readonly signal: AbortSignal;
  /** Whether the lease was lost (the signal's `aborted`, without making a signal). */
  readonly leaseLost: boolean;
}

/**
 * A run's job context. Its signal is made on first use: most jobs only ask
 * whether the lease was lost, and a frequent schedule (every second) would
 * otherwise pay for an AbortController per run.
 */
class RunLease implements JobContext {
  readonly runKey: string;
  readonly windowStart: number;
  #controller: AbortController | undefined;
  #lost: Error | undefined;

  constructor(runKey: string, windowStart: number) {
    this.runKey = runKey;
    this.windowStart = windowStart;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#lost !== undefined) this.#controller.abort(this.#lost);
    }
    return this.#controller.signal;
  }

  get leaseLost(): boolean {
    return this.#lost !== undefined;
  }

  lose(reason: Error): void {
    if (this.#lost !== undefined) return;
    this.#lost = reason;
    this.#controller?.abort(reason);
  }
}

export type RunOutcome =
  | { ran: true; record: RunRecord }
  | { ran: false; why: Extract<ClaimOutcome, { claimed: false }>["why"]; record: RunRecord };

/**
 * Runs a schedule's window at most once across replicas: claim in the run
 * store, renew the lease while the job runs (every third of the lease), and
 * record the outcome. A failed job is recorded with a retry time inside its
 * window; a job whose lease was taken over records nothing (the new owner
 * will). The heartbeat uses real timers, as leases are about process death.
 */
export class ScheduleCoordinator {
  readonly owner: string;
  readonly #store: RunStore;
  readonly #clock: Clock;
  readonly #log: PrecomputerLog;

  constructor(store: RunStore, clock: Clock, owner: string, log: PrecomputerLog) {
    this.#store = store;
    this.#clock = clock;
    this.owner = owner;
    this.#log = log;
  }

  get store(): RunStore {
    return this.#store;
  }

  async run(
    spec: ScheduleSpec,
    runKey: string,
    windowStart: number,
    job: (ctx: JobContext) => Promise<JobResult>,
  ): Promise<RunOutcome> {
    const request: ClaimRequest = {
      key: runKey,
      schedule: spec.name,
      windowStart,
      owner: this.owner,
      now: this.#clock.now(),
      leaseMs: spec.leaseMs,
      maxAttempts: spec.maxAttempts,
    };
    if (spec.timing.kind === "every") request.keepMs = keepRecordMs(spec.timing.everyMs, spec.leaseMs);
    const claim = await this.#store.claim(request);
    if (!claim.claimed) return { ran: false, why: claim.why, record: claim.record };
    if (claim.takeover)
      this.#log.warn(
        { schedule: spec.name, run: runKey, attempt: claim.record.attempts },
        "taking over a run whose owner stopped renewing its lease",
      );
    const lease = new RunLease(runKey, windowStart);
    const heartbeat = setInterval(
      () => {
        this.#store.renew(runKey, this.owner, spec.leaseMs, this.#clock.now()).then(
          (held) => {
            if (!held) lease.lose(new Error("lease lost"));
          },
          (err: unknown) => this.#log.warn({ err: errorMessage(err), run: runKey }, "lease renewal failed"),
        );
      },
      Math.max(10, Math.floor(spec.leaseMs / 3)),
    );
    heartbeat.unref();
    let result: JobResult | undefined;
    let failure: unknown;
    try {
      result = await job(lease);
    } catch (e) {
      failure = e;
    } finally {
      clearInterval(heartbeat);
    }
    const finishedAt = this.#clock.now();
    const finish =
      result !== undefined
        ? { status: "succeeded" as const, finishedAt, items: result.items, error: "", note: result.note }
        : {
            status: "failed" as const,
            finishedAt,
            items: 0,
            error: errorMessage(failure),
            note: "",
            retryAt: finishedAt + spec.retryAfterMs,
          };
    const kept = await this.#store.finish(runKey, this.owner, finish);
    if (!kept)
      this.#log.warn(
        { schedule: spec.name, run: runKey },
        "run finished after its lease was taken over; outcome dropped",
      );
    if (failure !== undefined)
      this.#log.warn(
        {
          schedule: spec.name,
          run: runKey,
          err: errorMessage(failure),
          retryInMs: spec.retryAfterMs,
          attempt: claim.record.attempts,
          maxAttempts: spec.maxAttempts,
        },
        `schedule run failed; it will be retried in ${Math.round(spec.retryAfterMs / 1000)} s within its window`,
      );
    const record = (await this.#store.get(runKey)) ?? { ...claim.record, ...finish };
    return { ran: true, record };
  }
}

/**
 * How long an interval schedule's run records are kept: the last
 * runHistoryLimit windows, and never less than an hour or a few leases, so
 * a one-second schedule keeps an hour of runs rather than the store's month.
 */
export function keepRecordMs(everyMs: number, leaseMs: number): number {
  return Math.max(everyMs * runHistoryLimit, 3_600_000, 4 * leaseMs);
}
