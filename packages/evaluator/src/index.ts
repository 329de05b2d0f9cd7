/**
 * @prescient/evaluator: trace replay under a virtual clock with the mesh's
 * real policy modules, baselines and an oracle bound; workload generators;
 * A/B comparison; reports.
 */

export { armOf, fnv1a32, splitUnit } from "./ab/split.js";
export { type AbResult, type ArmStats, compareArms } from "./ab/stats.js";
export { checkLiveAddress, isLoopback } from "./live/address.js";
export type { LiveConnection } from "./live/live-connection.js";
export {
  type LiveOnMiss,
  type LiveOptions,
  type LiveProgress,
  type LiveResult,
  liveReplay,
} from "./live/live-replay.js";
export { meshBudgetPerTraceSecond, meshTimeScale, scaleMatches } from "./live/mesh-scale.js";
export { type PacerClock, type PaceStats, pace } from "./live/pacer.js";
export { renderLive, timeScaleLine } from "./live/render.js";
export { type LiveAddresses, liveAddresses, parseAddressList, RoundRobin } from "./live/replicas.js";
export { type FeatureSampler, type SyntheticFeatures, syntheticFeatures } from "./live/synthetic-features.js";
export {
  type LiveTypeMap,
  liveTypeMap,
  MappedTraceSource,
  scaleTaskTypes,
} from "./live/type-map.js";
export { type PrescientSettings, prescientDefaults } from "./policies/prescient/settings.js";
export { glossarySections, glossaryText, type Term } from "./report/glossary.js";
export { renderHtml } from "./report/html.js";
export { renderTable } from "./report/table.js";
export { computeReasons, type PolicyMetrics } from "./sim/metrics.js";
export {
  type AbSettings,
  type PolicyName,
  policyNames,
  type ReplayOptions,
  resolveReplayOptions,
} from "./sim/options.js";
export { type ReplayReport, replay } from "./sim/replay.js";
export { type OpenTraceOptions, openTrace, type TraceFormat, traceFormats } from "./trace/open-trace.js";
export type { TraceEvent, TraceRead, TraceRecord, TraceSource } from "./trace/record.js";
export { isTraceFormatError, TraceFormatError } from "./trace/trace-error.js";
export {
  generate,
  type Workload,
  type WorkloadKind,
  workloadEpoch,
  workloadKinds,
} from "./workload/kinds.js";
export { RowsTraceSource, writeCsv } from "./workload/output.js";
export { type Check, formatCheck, validateWorkload } from "./workload/validate.js";
export { dailyAmplitude, fitZipfExponent, ZipfSampler } from "./workload/zipf.js";
