import type { ChannelCredentials, ChannelOptions } from "@grpc/grpc-js";
import { analyzerV1 } from "@prescient/contracts";
import { callUnary } from "@prescient/kit";
import { actionOfRead, launchOfEvent } from "../trace/backend-calls.js";
import type { TraceEvent, TraceRead } from "../trace/record.js";
import { RoundRobin } from "./replicas.js";

export interface LiveBackendCallsOptions {
  /** AnalyzerService replicas, called in turn. */
  addrs: readonly string[];
  credentials: ChannelCredentials;
  channel: ChannelOptions;
  /** Trace seconds per wall second: a launch announced an hour ahead is due an hour / speed later. */
  speed: number;
  /** The tenant the mesh knows a trace's tenant by (a run tag appended). */
  tenantOf: (tenant: string) => string;
  /** How long actions gather before one RecordActions, in trace ms (the simulation's reporter interval). */
  flushTraceMs: number;
  /** Actions per RecordActions at most. */
  batchSize: number;
  /**
   * RecordActions calls in flight at most. At it, actions gather and each
   * read waits (holding one of the pacer's slots) until a call returns, so a
   * slow analyzer slows the run rather than piling calls and actions up.
   */
  maxInFlight: number;
  timeoutMs: number;
  /** A failed call, for the run's error counts. */
  failed: (what: string, e: unknown) => void;
}

export interface LiveBackendCounts {
  actions: { sent: number; accepted: number; rejected: number; errors: number };
  launches: { announced: number; registered: number; errors: number };
}

/**
 * The backends' calls besides lookups and triggers (backend-calls.ts), made
 * to the mesh's AnalyzerService as the simulation makes them to its
 * analyzer: each read by a user as an action, gathered for the simulation's
 * reporter interval (compressed by the speed) into one RecordActions; each
 * launch announced ahead registered, due at its time compressed likewise.
 * Times are the wall clock's: the mesh lives on it. At most `maxInFlight`
 * RecordActions are in flight, and at most `batchSize` plus one per waiting
 * read are gathered.
 */
export class LiveBackendCalls {
  readonly counts: LiveBackendCounts = {
    actions: { sent: 0, accepted: 0, rejected: 0, errors: 0 },
    launches: { announced: 0, registered: 0, errors: 0 },
  };
  readonly #options: LiveBackendCallsOptions;
  readonly #clients: analyzerV1.AnalyzerServiceClient[];
  readonly #next: RoundRobin<analyzerV1.AnalyzerServiceClient>;
  readonly #pending: analyzerV1.ActionEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  /** A send found every slot taken: the next call to return sends what gathered. */
  #deferred = false;

  constructor(options: LiveBackendCallsOptions) {
    this.#options = options;
    this.#clients = options.addrs.map(
      (a) => new analyzerV1.AnalyzerServiceClient(a, options.credentials, options.channel),
    );
    this.#next = new RoundRobin(this.#clients);
  }

  /** Actions gathered and not yet sent. */
  get gathered(): number {
    return this.#pending.length;
  }

  /**
   * A lookup is being sent: the read is its user's action too. Answers a
   * promise to wait on before the lookup while every RecordActions slot is
   * taken, else undefined.
   */
  read(read: TraceRead): Promise<void> | undefined {
    const action = actionOfRead(read);
    if (action === undefined) return undefined;
    this.#pending.push({
      time: new Date(),
      tenant: this.#options.tenantOf(action.tenant),
      userId: action.userId,
      action: action.action,
      attributes: {},
      relatedEntityIds: [],
    });
    if (this.#pending.length >= this.#options.batchSize) this.#send();
    else if (this.#timer === undefined) {
      const wallMs = Math.max(1, Math.round(this.#options.flushTraceMs / this.#options.speed));
      this.#timer = setTimeout(() => this.#send(), wallMs);
    }
    return this.#inFlight.size >= this.#options.maxInFlight ? this.#slot() : undefined;
  }

  async #slot(): Promise<void> {
    // A returning call may hand its slot straight to a deferred send: wait until one stays free.
    while (this.#inFlight.size >= this.#options.maxInFlight) await Promise.race(this.#inFlight);
  }

  /** Registers the launch an event announces; false when the event is one of now, to trigger. */
  async announced(event: TraceEvent): Promise<boolean> {
    const launch = launchOfEvent(event);
    if (launch === undefined) return false;
    this.counts.launches.announced++;
    const { speed, tenantOf, timeoutMs } = this.#options;
    const client = this.#next.next();
    try {
      await callUnary(
        client.registerLaunch.bind(client),
        {
          launch: {
            id: "",
            tenant: tenantOf(launch.tenant),
            campaignId: launch.campaignId,
            launchAt: new Date(Date.now() + (launch.launchAt - event.time) / speed),
            entityIds: launch.entityIds,
            // The mesh's precomputer warms the task types of the event's rule, configured or learned.
            taskTypes: [],
            event: launch.event,
          },
        },
        { timeoutMs },
      );
      this.counts.launches.registered++;
    } catch (e) {
      this.counts.launches.errors++;
      this.#options.failed("RegisterLaunch", e);
    }
    return true;
  }

  /** Sends what is gathered and waits for every RecordActions in flight, deferred ones too. */
  async flush(): Promise<void> {
    this.#send();
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  close(): void {
    clearTimeout(this.#timer);
    for (const c of this.#clients) c.close();
  }

  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#pending.length > 0) {
      if (this.#inFlight.size >= this.#options.maxInFlight) {
        this.#deferred = true;
        return;
      }
      this.#call(this.#pending.splice(0, this.#options.batchSize));
    }
  }

  #call(events: analyzerV1.ActionEvent[]): void {
    const client = this.#next.next();
    this.counts.actions.sent += events.length;
    const call = callUnary(
      client.recordActions.bind(client),
      { events },
      { timeoutMs: this.#options.timeoutMs },
    )
      .then(
        (r) => {
          this.counts.actions.accepted += Number(r.accepted);
          this.counts.actions.rejected += Number(r.rejected);
        },
        (e: unknown) => {
          this.counts.actions.errors += events.length;
          this.#options.failed("RecordActions", e);
        },
      )
      .finally(() => {
        this.#inFlight.delete(call);
        if (this.#deferred) {
          this.#deferred = false;
          this.#send();
        }
      });
    this.#inFlight.add(call);
  }
}
