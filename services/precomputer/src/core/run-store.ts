/**
 * Schedule runs: one record per (schedule, window), claimed atomically so a
 * window runs once however many replicas race for it. A claim holds a lease
 * that its owner renews while it runs; a replica that crashes stops renewing
 * and, once the lease lapses, another takes the run over. A failed run may be
 * retried within its window after `retryAt`, up to `maxAttempts`.
 *
 * Two implementations (memory, Redis) pass one conformance suite.
 */
export type RunStatus = "running" | "succeeded" | "failed";

export interface RunRecord {
  /** `<schedule>@<window start>`; unique. */
  key: string;
  schedule: string;
  windowStart: number;
  status: RunStatus;
  /** The replica that ran (or runs) it. */
  owner: string;
  startedAt: number;
  finishedAt?: number;
  /** Tasks enqueued (or records removed, for clean-up). */
  items: number;
  error: string;
  /** Claims of this window so far, takeovers and retries included. */
  attempts: number;
  /** A failed run may be claimed again from then. */
  retryAt?: number;
  /** A human note: what the run did. */
  note: string;
}

export interface ClaimRequest {
  key: string;
  schedule: string;
  windowStart: number;
  owner: string;
  now: number;
  leaseMs: number;
  maxAttempts: number;
  /**
   * How long the record must be kept after its claim, when less than the
   * store's retention will do: a window is never claimed again once it has
   * passed, so a frequent schedule's records need not pile up for weeks.
   */
  keepMs?: number;
}

export type ClaimOutcome =
  | { claimed: true; record: RunRecord; takeover: boolean }
  | {
      claimed: false;
      why: "running" | "succeeded" | "retry_later" | "attempts_exhausted";
      record: RunRecord;
    };

export interface RunFinish {
  status: "succeeded" | "failed";
  finishedAt: number;
  items: number;
  error: string;
  note: string;
  /** For a failure: when the window may be tried again. */
  retryAt?: number;
}

export interface RunStore {
  readonly name: string;
  ready(): Promise<void>;
  /** Claims the window's run for `owner`, atomically. */
  claim(request: ClaimRequest): Promise<ClaimOutcome>;
  /** Extends the owner's lease; false when it was lost (taken over). */
  renew(key: string, owner: string, leaseMs: number, now: number): Promise<boolean>;
  /** Records the outcome and releases the lease; false (and nothing written) when the owner lost it. */
  finish(key: string, owner: string, outcome: RunFinish): Promise<boolean>;
  get(key: string): Promise<RunRecord | undefined>;
  /** Newest first (by start); one schedule when given. */
  list(filter: { schedule?: string; limit: number }): Promise<RunRecord[]>;
  close(): Promise<void>;
}

/** Runs kept per schedule; older history is trimmed. */
export const runHistoryLimit = 200;

/**
 * The claim rule, shared by the memory store and mirrored by the Redis
 * script: given the window's record (if any) and whether its lease is still
 * held, may `request.owner` run it now?
 */
export function decideClaim(
  existing: RunRecord | undefined,
  leaseHeld: boolean,
  request: ClaimRequest,
): ClaimOutcome {
  const fresh = (attempts: number, previous?: RunRecord): RunRecord => ({
    key: request.key,
    schedule: request.schedule,
    windowStart: request.windowStart,
    status: "running",
    owner: request.owner,
    startedAt: request.now,
    items: 0,
    error: previous?.error ?? "",
    attempts,
    note: "",
  });
  if (existing === undefined) return { claimed: true, record: fresh(1), takeover: false };
  if (existing.status === "succeeded") return { claimed: false, why: "succeeded", record: existing };
  if (existing.status === "running" && leaseHeld) return { claimed: false, why: "running", record: existing };
  if (existing.attempts >= request.maxAttempts)
    return { claimed: false, why: "attempts_exhausted", record: existing };
  if (existing.status === "failed" && existing.retryAt !== undefined && request.now < existing.retryAt)
    return { claimed: false, why: "retry_later", record: existing };
  // A running record without a lease is an owner that died mid-run: take it over.
  return {
    claimed: true,
    record: fresh(existing.attempts + 1, existing),
    takeover: existing.status === "running",
  };
}
