export { type BatchPolicy, BatchQueue, type Decision, type QueueItem } from "./batching/batch-queue.js";
export {
  type BatchRunner,
  DynamicBatcher,
  type InferOutcome,
  type SubmitOptions,
} from "./batching/dynamic-batcher.js";
export { type ExampleSpec, exampleSpecs } from "./models/example-specs.js";
export { Rng } from "./models/rng.js";
export {
  type PredictorOptions,
  type PredictorRuntime,
  predictorServiceNames,
  shippedModelsPath,
  startPredictor,
} from "./predictor.js";
export { predictorEnvShape, predictorOptionsFromEnv } from "./predictor-env.js";
export { type ModelConfig, parseModelConfig } from "./repository/model-config.js";
export { ModelRepository, type VersionState, type VersionStatus } from "./repository/model-repository.js";
export { ortSessionOptions, type SessionThreading } from "./repository/session-options.js";
