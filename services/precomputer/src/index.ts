/**
 * @prescient/precomputer: decides what to compute and when.
 *
 * The core (`./core/`) holds every policy as plain TypeScript over an
 * injected Clock and ports (fan-out rules, schedule windows and run claims,
 * top-N, launch warming, refresh-ahead, predicted precompute, the budget),
 * so the trace evaluator runs it on virtual time. The service shell adapts
 * it to gRPC, Redis and croner timers.
 */

// Service shell.
export { fromPeerError, grpcAnalyzer, grpcCache, grpcExecutor } from "./adapters/grpc.js";
export { inProcessAnalyzer, inProcessCache, inProcessExecutor } from "./adapters/in-process.js";
export { MeshLoadProbe } from "./adapters/load-probe.js";
export type { AnalyzerPeer, CachePeer, ExecutorPeer } from "./adapters/peers.js";
// Core: policies, and the Precomputer that runs them over the ports.
export { type Alert, evaluateAlerts } from "./core/alerts.js";
export {
  type Admission,
  Budget,
  type BudgetOptions,
  type BudgetUsage,
  backoffFactor,
  budgetDefaults,
  loadPressure,
} from "./core/budget.js";
export { type EntityKey, entityKeyOf, usableKeys, usablePatterns } from "./core/candidates.js";
export {
  type AlertThresholds,
  type PrecomputerConfig,
  type PredictedSettings,
  parsePrecomputerConfig,
  type RefreshAheadSettings,
  type RuleTarget,
  type ScheduleJob,
  type ScheduleSpec,
  type ScheduleTiming,
  type TriggerRule,
} from "./core/config.js";
export { type CountersSnapshot, PrecomputerCounters } from "./core/counters.js";
export { parseDuration } from "./core/duration.js";
export { eventLimits, planFanOut, subjectOf, validateEvent } from "./core/fan-out.js";
export { FreshPeekGate, type FreshPeekGateOptions } from "./core/fresh-peek-gate.js";
export { freshnessUnknown } from "./core/freshness-lookup.js";
export {
  type LaunchWarmingOptions,
  type LaunchWarmingPlan,
  planLaunchWarming,
  urgentLaunchMs,
} from "./core/launch-warming.js";
export type { RefreshRequest, WarmRequest } from "./core/manual-requests.js";
export type {
  DemandPattern,
  DemandSource,
  DomainEventReport,
  FreshnessSource,
  LearnedRuleView,
  LoadProbe,
  LoadSample,
  NearExpiry,
  OffPeak,
  PrecomputerLog,
  TaskSink,
  UpcomingLaunch,
} from "./core/ports.js";
export { noLoad, silentLog } from "./core/ports.js";
export { Precomputer, type PrecomputerStats } from "./core/precomputer.js";
export {
  type EntityRef,
  type PrecomputerDeps,
  type PrecomputerOptions,
  precomputerDefaults,
  type RunTracer,
  type TracedRun,
} from "./core/precomputer-deps.js";
export {
  type PredictedPlan,
  type PredictionInput,
  planPredicted,
  planReadAhead,
  taskTypesOfAction,
} from "./core/predicted.js";
export { RareWarnings } from "./core/rare-warnings.js";
export { type ReadCalibrationOptions, readCalibrationDefaults } from "./core/read-calibration.js";
export {
  planRefreshAhead,
  type RefreshCandidate,
  refreshDecision,
  refreshHorizonMs,
  refreshPeriodMs,
} from "./core/refresh-ahead.js";
export {
  type ClaimOutcome,
  type ClaimRequest,
  decideClaim,
  type RunFinish,
  type RunRecord,
  type RunStatus,
  type RunStore,
  runHistoryLimit,
} from "./core/run-store.js";
export {
  type JobContext,
  type JobResult,
  type RunOutcome,
  ScheduleCoordinator,
} from "./core/schedule-coordinator.js";
export {
  cronWindow,
  intervalWindow,
  manualRunKey,
  nextWakeMs,
  offPeakWindow,
  runKeyOf,
  type ScheduleWindow,
  validateCron,
  windowFor,
} from "./core/schedule-window.js";
export type { QueuedByType } from "./core/task-enqueuer.js";
export { selectTopN, type TopNOptions } from "./core/top-n.js";
export type { TriggerOutcome } from "./core/trigger-handling.js";
export { analyzerUnavailable, TriggerPredictions } from "./core/trigger-predictions.js";
export {
  addCount,
  type Counts,
  type Features,
  type PlannedTask,
  type SkipReason,
  skipReasons,
  type TaskReason,
  type TriggerEvent,
} from "./core/types.js";
export {
  type PrecomputerOptions as PrecomputerServiceOptions,
  precomputerEnvShape,
  precomputerOptionsFromEnv,
  resolvePrecomputerOptions,
} from "./options.js";
export { referencePayload } from "./reference-handler/payloads.js";
export {
  mountReferenceHandler,
  ReferenceTaskHandlers,
  referenceHandlerImplementation,
  taskHandlerServiceName,
} from "./reference-handler/reference-handler.js";
export { precomputerServiceImplementation, precomputerServiceName } from "./service/precomputer-service.js";
export {
  realTimers,
  ScheduleRunner,
  type ScheduleRunnerOptions,
  type Timers,
} from "./service/schedule-runner.js";
export { type PrecomputerRuntime, startPrecomputer } from "./start-precomputer.js";
// Stores.
export { MemoryRunStore } from "./store/memory-run-store.js";
export { RedisRunStore, type RedisRunStoreOptions } from "./store/redis-run-store.js";
