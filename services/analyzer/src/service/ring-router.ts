import { Metadata, status } from "@grpc/grpc-js";
import { analyzerV1 } from "@prescient/contracts";
import { errorMessage } from "@prescient/core";
import {
  type CallContext,
  type CallSettings,
  clientChannelOptions,
  type Logger,
  LogRateLimit,
  peerCredentials,
} from "@prescient/kit";
import type { IngestResult } from "../core/events.js";
import type { TenantRing } from "../ring/tenant-ring.js";

/** Marks a call one replica sent another: the receiver answers from its own state and forwards nothing. */
export const forwardedHeader = "prescient-analyzer-forwarded";

export interface RingRouterOptions {
  /** Deadline of a call to another replica. Default 5000 ms. */
  timeoutMs: number;
  /** Rejections an ingest answer lists at most (the analyzer's maxRejectionsReported). Default 100. */
  maxRejections: number;
  logger: Logger | undefined;
  /**
   * Under TLS, the name other replicas' certificates carry (e.g. the
   * Service's, "analyzer"), checked instead of the advertised host: replicas
   * advertise pod IPs, which certificates for the Service do not name.
   * Default undefined: the advertised host.
   */
  tlsServerName: string | undefined;
  /** Told of each call to another replica: answered, or failed (then answered here instead, or left out). */
  onForward: (rpc: string, outcome: "forwarded" | "failed") => void;
}

/** An ingest RPC's answer, as another replica sends it. */
export type Ingested = {
  accepted: bigint;
  rejected: bigint;
  rejections: { index: bigint; reason: string }[];
};

/**
 * How one analyzer replica shares the tenants with the others (TenantRing):
 * ingest is split by tenant, each part applied by its owner; reads of one
 * tenant's learned state go to the owner; reads of every tenant's gather the
 * owners' answers. A call that another replica forwarded is answered here
 * from local state, so views that disagree for a beat cannot loop.
 *
 * A replica that does not answer costs no data: its part is applied here
 * instead (that tenant's learning splits until the ring agrees again) and
 * counted. The shared store's counters are right either way.
 */
export class RingRouter {
  readonly ring: TenantRing;
  readonly #options: RingRouterOptions;
  readonly #clients = new Map<string, analyzerV1.AnalyzerServiceClient>();
  readonly #logLimit = new LogRateLimit(10_000);

  constructor(ring: TenantRing, options?: Partial<RingRouterOptions>) {
    this.ring = ring;
    this.#options = {
      timeoutMs: 5000,
      maxRejections: 100,
      logger: undefined,
      tlsServerName: undefined,
      onForward: () => undefined,
      ...options,
    };
  }

  /** Whether this call is split across the ring: more than one replica live, and not forwarded to us. */
  routes(ctx: CallContext): boolean {
    return !this.ring.solo && ctx.metadata.get(forwardedHeader).length === 0;
  }

  /** Whether every item's tenant is this replica's (then the caller's usual path applies them). */
  allLocal<T>(items: readonly T[], tenantOf: (item: T) => string): boolean {
    let last: string | undefined;
    for (const item of items) {
      const tenant = tenantOf(item);
      if (tenant === last) continue;
      if (!this.ring.owns(tenant)) return false;
      last = tenant;
    }
    return true;
  }

  /**
   * Applies `items` split by tenant owner: `local` for this replica's part,
   * `forward` for each other's (or `local` when that replica fails), all
   * parts at once. Counts and rejections are merged into `result`, each
   * rejection at `offset` plus its item's index in `items`.
   */
  async ingest<T>(
    rpc: string,
    items: readonly T[],
    tenantOf: (item: T) => string,
    result: IngestResult,
    offset: number,
    local: (part: T[], into: IngestResult) => Promise<void>,
    forward: (
      client: analyzerV1.AnalyzerServiceClient,
      part: T[],
      settings: CallSettings,
    ) => Promise<Ingested>,
  ): Promise<void> {
    const parts = this.ring.partition(items, tenantOf);
    const done = await Promise.allSettled(
      [...parts].map(async ([owner, part]) => {
        const into: IngestResult = { accepted: 0, rejected: 0, rejections: [] };
        const answered =
          owner === this.ring.self
            ? undefined
            : await this.#call(rpc, owner, (client, settings) => forward(client, part.items, settings));
        if (answered === undefined) await local(part.items, into);
        else {
          into.accepted = Number(answered.accepted);
          into.rejected = Number(answered.rejected);
          for (const r of answered.rejections)
            into.rejections.push({ index: Number(r.index), reason: r.reason });
        }
        this.#merge(result, into, part.positions, offset);
      }),
    );
    // Ordered and cut as one replica would: the first rejections by position.
    result.rejections.sort((a, b) => a.index - b.index);
    result.rejections.length = Math.min(result.rejections.length, this.#options.maxRejections);
    const failed = done.find((d) => d.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  /** The owner of `tenant` answers; this replica when it owns it or the owner fails. */
  async ownerAnswers<R>(
    rpc: string,
    tenant: string,
    local: () => R | Promise<R>,
    forward: (client: analyzerV1.AnalyzerServiceClient, settings: CallSettings) => Promise<R>,
  ): Promise<R> {
    const owner = this.ring.ownerOf(tenant);
    if (owner === this.ring.self) return local();
    return (await this.#call(rpc, owner, forward)) ?? local();
  }

  /** Each other replica's answer, in ring order; a replica that fails is left out (logged and counted). */
  async fromPeers<R>(
    rpc: string,
    ask: (client: analyzerV1.AnalyzerServiceClient, settings: CallSettings) => Promise<R>,
  ): Promise<Array<{ peer: string; answer: R }>> {
    const out: Array<{ peer: string; answer: R }> = [];
    await Promise.all(
      this.ring.peers.map(async (peer) => {
        const answer = await this.#call(rpc, peer, ask);
        if (answer !== undefined) out.push({ peer, answer });
      }),
    );
    // In ring order, whichever answered first.
    const order = this.ring.peers;
    return out.sort((a, b) => order.indexOf(a.peer) - order.indexOf(b.peer));
  }

  /** Asks peers one at a time until `enough` says stop; failures are left out. */
  async untilEnough<R>(
    rpc: string,
    ask: (client: analyzerV1.AnalyzerServiceClient, settings: CallSettings) => Promise<R>,
    enough: (answer: R) => boolean,
  ): Promise<void> {
    for (const peer of this.ring.peers) {
      const answer = await this.#call(rpc, peer, ask);
      if (answer !== undefined && enough(answer)) return;
    }
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }

  async #call<R>(
    rpc: string,
    peer: string,
    ask: (client: analyzerV1.AnalyzerServiceClient, settings: CallSettings) => Promise<R>,
  ): Promise<R | undefined> {
    const metadata = new Metadata();
    metadata.set(forwardedHeader, this.ring.self);
    try {
      const answer = await ask(this.#client(peer), { timeoutMs: this.#options.timeoutMs, metadata });
      this.#options.onForward(rpc, "forwarded");
      return answer;
    } catch (e) {
      // The request itself is wrong: this replica would refuse it too.
      if ((e as { code?: unknown }).code === status.INVALID_ARGUMENT) throw e;
      this.#options.onForward(rpc, "failed");
      const line = this.#logLimit.take();
      if (line !== undefined)
        this.#options.logger?.warn(
          { peer, rpc, err: errorMessage(e), suppressed: line.suppressed },
          "analyzer replica did not answer; handled here instead",
        );
      return undefined;
    }
  }

  #client(peer: string): analyzerV1.AnalyzerServiceClient {
    let c = this.#clients.get(peer);
    if (c === undefined) {
      // Channels to replicas that left go, so pods that come and go at new addresses leave nothing behind.
      for (const [gone, channel] of this.#clients)
        if (!this.ring.members.includes(gone)) {
          channel.close();
          this.#clients.delete(gone);
        }
      const name = this.#options.tlsServerName;
      c = new analyzerV1.AnalyzerServiceClient(peer, peerCredentials(), {
        ...clientChannelOptions(),
        ...(name === undefined
          ? {}
          : { "grpc.ssl_target_name_override": name, "grpc.default_authority": name }),
      });
      this.#clients.set(peer, c);
    }
    return c;
  }

  #merge(result: IngestResult, part: IngestResult, positions: readonly number[], offset: number): void {
    result.accepted += part.accepted;
    result.rejected += part.rejected;
    for (const r of part.rejections)
      result.rejections.push({ index: offset + (positions[r.index] ?? r.index), reason: r.reason });
  }
}
