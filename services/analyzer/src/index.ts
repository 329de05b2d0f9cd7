/**
 * @prescient/analyzer: demand learning from query logs and user actions.
 *
 * The service shell (`startAnalyzer`, the QueryReporter's gRPC sink) sits on
 * top of a pure core (`Analyzer` and the policy modules) that imports neither
 * gRPC nor Redis, so the trace evaluator runs the same code under a virtual
 * clock with the memory store.
 */

// Core.
export { Analyzer, type AnalyzerDeps } from "./analyzer.js";
export type { AnalyzerLog } from "./analyzer-log.js";
export { computeBucket as computeBucketOf, histogramQuantile } from "./core/compute-histogram.js";
export { buildCounterDelta, hourOfWeek } from "./core/counter-delta.js";
export { type Pattern, type RankOptions, rankPatterns } from "./core/demand-ranking.js";
export { type DomainEventInput, validateDomainEvent } from "./core/domain-events.js";
export {
  EntityRelations,
  type EntityRelationsOptions,
  entityRelationsDefaults,
  type RelatedEntity,
} from "./core/entity-relations.js";
export {
  type ActionEvent,
  type ActionEventInput,
  emptyIngestResult,
  type IngestResult,
  type Outcome,
  type QueryEvent,
  type QueryEventInput,
  validateActionEvent,
  validateQueryEvent,
} from "./core/events.js";
export {
  FanOutLearner,
  type FanOutLearnerOptions,
  fanOutLearnerDefaults,
  type LearnedKeyBy,
  type LearnedRule,
  type LearnedTarget,
} from "./core/fan-out-learner.js";
export {
  type DecayRates,
  decayedValue,
  forwardWeight,
  landmarkFor,
  rateOfHalfLife,
} from "./core/forward-decay.js";
export { type LaunchInput, validateLaunch } from "./core/launches.js";
export { findOffPeakWindow, type OffPeakSettings, type OffPeakWindow } from "./core/off-peak.js";
export { SequenceTracker, sequenceOf, stepsOf, type Transition } from "./core/sequence-tracker.js";
export { streamOf } from "./core/sequential-streams.js";
export { type HeavyHitter, SpaceSaving } from "./core/space-saving.js";
export { summarizeType, type TypeSummary } from "./core/type-stats.js";
export { FileModelPublisher } from "./model/file-publisher.js";
export { OipScorer } from "./model/oip-scorer.js";
export { InProcessScorer } from "./model/onnx-scorer.js";
// Model publishing and scoring ports, with their implementations.
export type { ModelPublisher, NextActionScorer, PublishedModel, ScoreRequest } from "./model/ports.js";
// Next-action model.
export { type Distribution, FrequencyBaseline, MarkovBaseline, topActions } from "./next-action/baselines.js";
export { actionVocabulary, buildExamples, type Example, splitByTime } from "./next-action/examples.js";
export { encodeFeatures, type FeatureSpec, featureWidth } from "./next-action/features.js";
export { evaluate, type Metrics } from "./next-action/metrics.js";
export { exportNextActionOnnx, importNextActionOnnx, nextActionTensors } from "./next-action/onnx-export.js";
export { NextActionModel, type TrainingSettings, trainSoftmax } from "./next-action/softmax-regression.js";
export {
  defaultNextActionSettings,
  type NextActionSettings,
  type RetrainOutcome,
  retrainNextAction,
} from "./next-action/trainer.js";
export type { NextActionPrediction, PredictionSource } from "./next-action-predictor.js";
export type { RetrainReport } from "./next-action-retrainer.js";
export {
  type AnalyzerEnv,
  type AnalyzerOptions,
  analyzerEnvShape,
  analyzerOptionsFromEnv,
  maxHalfLifeS,
  resolveOptions,
} from "./options.js";
export {
  QueryReporter,
  type QueryReporterOptions,
  type QueryReporterStats,
  type QuerySink,
  queryReporterDefaults,
} from "./query-reporter.js";
export { ingestBatchEvents, QueryStream } from "./query-stream.js";
export { analyzerServiceName } from "./service/analyzer-service.js";
export { grpcQuerySink } from "./service/grpc-query-sink.js";
// Service shell.
export { type AnalyzerRuntime, startAnalyzer } from "./service/start-analyzer.js";
export {
  type AnalyzerSettings,
  type AnalyzerSettingsInput,
  decayRatesOf,
  resolveSettings,
} from "./settings.js";

// Stores.
export type * from "./store/analyzer-store.js";
export { MemoryAnalyzerStore } from "./store/memory-store.js";
export { type OpenRedisStoreOptions, openRedisAnalyzerStore } from "./store/open-redis-store.js";
export { RedisAnalyzerStore, type RedisAnalyzerStoreOptions } from "./store/redis-store.js";
export { ShardedAnalyzerStore, type ShardedStoreOptions } from "./store/sharded-store.js";
