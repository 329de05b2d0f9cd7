import type { PrescientClient } from "@prescient/client";
import type { Features } from "@prescient/core";
import type { ErrorCounts } from "./error-counts.js";
import type { TaskLedger } from "./task-ledger.js";

export const tenant = "soak";

/**
 * Samples ranks 0..n-1 with P(rank k) ∝ 1/(k+1)^s: a few hot entities and a
 * long tail, as real lookups are. The CDF is built once; a draw is a binary
 * search.
 */
export class Zipf {
  readonly #cdf: Float64Array;

  constructor(n: number, s = 1.1) {
    this.#cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      sum += 1 / (k + 1) ** s;
      this.#cdf[k] = sum;
    }
    for (let k = 0; k < n; k++) this.#cdf[k] = (this.#cdf[k] ?? 0) / sum;
  }

  next(): number {
    const u = Math.random();
    let lo = 0;
    let hi = this.#cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#cdf[mid] ?? 1) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const ctrFeatures = (i: number): Features => ({
  bid: 1 + (i % 7),
  quality_score: 1 + (i % 10),
  position: 1 + (i % 4),
  hour_of_day: i % 24,
  ad_age_days: i % 30,
  historical_ctr: 0.01 + (i % 50) / 1000,
  relevance: (i % 100) / 100,
  device_mobile: i % 2,
});

/** campaign_created fans out to roas_prediction and variant_scoring: both models' features. */
const campaignFeatures = (i: number): Features => ({
  budget: 1000 + i,
  bid: 1 + (i % 7),
  audience_size: 10_000 + i * 10,
  historical_roas: 1 + (i % 5) / 2,
  ctr: 0.01 + (i % 50) / 1000,
  conversion_rate: 0.02,
  seasonality: (i % 12) / 12,
  competition: (i % 10) / 10,
  length: 10 + (i % 90),
  sentiment: (i % 20) / 20,
  novelty: (i % 7) / 7,
  brand_fit: (i % 9) / 9,
  readability: (i % 11) / 11,
  emoji_count: i % 4,
});

/** Relative weights of the operations in the mix. */
const mix = [
  ["lookup", 40],
  ["lookupMany", 8],
  ["put", 10],
  ["triggerVideo", 5],
  ["triggerCampaign", 5],
  ["enqueue", 22],
  ["infer", 10],
] as const;
type Op = (typeof mix)[number][0];
const mixTotal = mix.reduce((a, [, w]) => a + w, 0);

function pickOp(): Op {
  let u = Math.random() * mixTotal;
  for (const [op, w] of mix) {
    u -= w;
    if (u < 0) return op;
  }
  return "lookup";
}

/**
 * Mixed traffic at a bounded rate through @prescient/client: lookups and
 * lookupMany over a Zipf key mix, puts, triggers of video_uploaded and
 * campaign_created with features, enqueues with features, and infers. Every
 * task id an Enqueue or Trigger answered goes into the ledger. Past
 * `maxInFlight` calls (a stalled service) it skips rather than queueing
 * without bound, so the soak's own memory does not grow with an outage.
 */
export class Workload {
  readonly #client: PrescientClient;
  readonly #errors: ErrorCounts;
  readonly #ledger: TaskLedger;
  readonly #zipf: Zipf;
  readonly #entities: number;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #idle: (() => void) | undefined;
  #putSeq = 0;
  issued = 0;
  skipped = 0;

  constructor(client: PrescientClient, errors: ErrorCounts, ledger: TaskLedger, entities: number) {
    this.#client = client;
    this.#errors = errors;
    this.#ledger = ledger;
    this.#entities = entities;
    this.#zipf = new Zipf(entities);
  }

  start(ratePerSecond: number, maxInFlight: number): void {
    let last = Date.now();
    let budget = 0;
    // A 20 ms tick with carried-over budget keeps the mean rate exact without a timer per call.
    this.#timer = setInterval(() => {
      const now = Date.now();
      budget = Math.min(budget + ((now - last) / 1000) * ratePerSecond, ratePerSecond);
      last = now;
      while (budget >= 1) {
        budget -= 1;
        if (this.#inFlight >= maxInFlight) {
          this.skipped++;
          continue;
        }
        this.issued++;
        this.#inFlight++;
        void this.#one(pickOp()).finally(() => {
          this.#inFlight--;
          if (this.#inFlight === 0) this.#idle?.();
        });
      }
    }, 20);
  }

  /** Stops issuing and waits for the calls in flight (each has a deadline). */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
  }

  async #one(op: Op): Promise<void> {
    const rpc = rpcOf[op];
    try {
      await this.#run(op);
      this.#errors.ok(rpc);
    } catch (e) {
      this.#errors.fail(rpc, e);
    }
  }

  /** A key of the lookup mix: the keys enqueues and triggers compute, hot ones most often. */
  #lookupKey(): string {
    const i = this.#zipf.next();
    switch (i % 3) {
      case 0:
        return `${tenant}/ctr_prediction/ad-${i}`;
      case 1:
        return `${tenant}/roas_prediction/camp-${i}`;
      default:
        return `${tenant}/scene_detection/vid-${i}`;
    }
  }

  async #run(op: Op): Promise<void> {
    const c = this.#client;
    switch (op) {
      case "lookup":
        await c.lookup(this.#lookupKey(), { userId: `user-${this.#zipf.next() % 50}` });
        return;
      case "lookupMany":
        await c.lookupMany(
          Array.from({ length: 20 }, () => this.#lookupKey()),
          { userId: `user-${this.#zipf.next() % 50}` },
        );
        return;
      case "put":
        // Its own entity namespace: a put must never look like the result of an acknowledged task.
        await c.put(
          `${tenant}/campaign_analytics/put-${this.#putSeq++ % this.#entities}`,
          { clicks: this.#putSeq, spend: this.#putSeq * 0.1 },
          { ttlSeconds: 600 },
        );
        return;
      case "triggerVideo": {
        const i = this.#zipf.next();
        const sentAt = Date.now();
        const r = await c.trigger({
          type: "video_uploaded",
          tenant,
          entityId: `vid-${i}`,
          userId: `user-${i % 50}`,
          features: ctrFeatures(i),
        });
        this.#ledgerTrigger(r.queued, `vid-${i}`, sentAt, "trigger:video_uploaded");
        return;
      }
      case "triggerCampaign": {
        const i = this.#zipf.next();
        const sentAt = Date.now();
        const r = await c.trigger({
          type: "campaign_created",
          tenant,
          entityId: `camp-${i}`,
          userId: `user-${i % 50}`,
          features: campaignFeatures(i),
        });
        this.#ledgerTrigger(r.queued, `camp-${i}`, sentAt, "trigger:campaign_created");
        return;
      }
      case "enqueue": {
        const i = this.#zipf.next();
        const which = i % 3;
        const [key, features] =
          which === 0
            ? [`${tenant}/ctr_prediction/ad-${i}`, ctrFeatures(i)]
            : which === 1
              ? [`${tenant}/roas_prediction/camp-${i}`, campaignFeatures(i)]
              : [`${tenant}/dashboard_data/user-${i}`, undefined];
        const sentAt = Date.now();
        const r = await c.enqueue(key, features !== undefined ? { features } : {});
        this.#ledger.acknowledge(r.taskId, key, sentAt, "enqueue");
        return;
      }
      case "infer": {
        const f = ctrFeatures(this.#zipf.next());
        await c.infer("ctr_prediction", {
          features: { datatype: "FP32", shape: [1, 8], data: Object.values(f).map(Number) },
        });
        return;
      }
    }
  }

  #ledgerTrigger(queued: Record<string, string[]>, entityId: string, sentAt: number, source: string): void {
    for (const [taskType, ids] of Object.entries(queued))
      for (const id of ids) this.#ledger.acknowledge(id, `${tenant}/${taskType}/${entityId}`, sentAt, source);
  }
}

const rpcOf: Record<Op, string> = {
  lookup: "Lookup",
  lookupMany: "LookupMany",
  put: "Put",
  triggerVideo: "Trigger(video_uploaded)",
  triggerCampaign: "Trigger(campaign_created)",
  enqueue: "Enqueue",
  infer: "ModelInfer",
};
