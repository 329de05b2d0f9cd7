import { analyzerV1 } from "@prescient/contracts";
import type { IngestResult } from "../core/events.js";
import type { LearnedKeyBy } from "../core/fan-out-learner.js";
import type { Metrics } from "../next-action/metrics.js";
import type { PredictionSource } from "../next-action-predictor.js";
import type { RetrainReport } from "../next-action-retrainer.js";
import type { LaunchRecord } from "../store/analyzer-store.js";

/** Encoding of core results into the analyzer's proto messages. */
export function ingestResponse(r: IngestResult): analyzerV1.RecordQueriesResponse {
  return {
    accepted: BigInt(r.accepted),
    rejected: BigInt(r.rejected),
    rejections: r.rejections.map((x) => ({ index: BigInt(x.index), reason: x.reason })),
  };
}

export function launchMessage(l: LaunchRecord): analyzerV1.Launch {
  return {
    id: l.id,
    tenant: l.tenant,
    campaignId: l.campaignId,
    launchAt: new Date(l.launchAt),
    entityIds: l.entityIds,
    taskTypes: l.taskTypes,
    event: l.event,
  };
}

/** Learned targets' key, on the wire. */
export const keyByEnum: Record<LearnedKeyBy, analyzerV1.KeyBy> = {
  entity: analyzerV1.KeyBy.KEY_BY_ENTITY,
  user: analyzerV1.KeyBy.KEY_BY_USER,
  related: analyzerV1.KeyBy.KEY_BY_RELATED,
};

export const sourceEnum: Record<PredictionSource, analyzerV1.PredictionSource> = {
  model: analyzerV1.PredictionSource.PREDICTION_SOURCE_MODEL,
  markov: analyzerV1.PredictionSource.PREDICTION_SOURCE_MARKOV,
  frequency: analyzerV1.PredictionSource.PREDICTION_SOURCE_FREQUENCY,
};

const metrics = (m: Metrics | undefined): analyzerV1.ModelMetrics | undefined =>
  m === undefined
    ? undefined
    : { top1Accuracy: m.top1Accuracy, logLoss: m.logLoss, examples: BigInt(m.examples) };

export function retrainResponse(r: RetrainReport): analyzerV1.RetrainNextActionResponse {
  return {
    candidate: metrics(r.candidate),
    current: metrics(r.current),
    markovBaseline: metrics(r.markov),
    frequencyBaseline: metrics(r.frequency),
    promoted: r.promoted,
    version: r.version,
    explanation: r.explanation,
  };
}
