/** The five services of the mesh and the gRPC service names their health reports under. */
export const serviceNames = ["analyzer", "predictor", "precomputer", "executor", "cache"] as const;

export type ServiceName = (typeof serviceNames)[number];

export const grpcServiceOf: Record<ServiceName, readonly string[]> = {
  analyzer: ["prescient.analyzer.v1.AnalyzerService"],
  predictor: ["inference.GRPCInferenceService", "prescient.predictor.v1.ModelRepositoryService"],
  precomputer: ["prescient.precomputer.v1.PrecomputerService"],
  executor: ["prescient.executor.v1.ExecutorService"],
  cache: ["prescient.cache.v1.CacheService"],
};

export function isServiceName(name: string): name is ServiceName {
  return (serviceNames as readonly string[]).includes(name);
}
