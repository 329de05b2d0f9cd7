// The generated contracts of every prescient service, one namespace per proto package.
import { fileURLToPath } from "node:url";

export * as inference from "./gen/inference/grpc_service.js";
export * as analyzerV1 from "./gen/prescient/analyzer/v1/analyzer.js";
export * as cacheV1 from "./gen/prescient/cache/v1/cache.js";
export * as commonV1 from "./gen/prescient/common/v1/common.js";
export * as executorV1 from "./gen/prescient/executor/v1/executor.js";
export * as precomputerV1 from "./gen/prescient/precomputer/v1/precomputer.js";
export * as predictorV1 from "./gen/prescient/predictor/v1/repository.js";

/** The exact `buf build` descriptor set, served by server reflection. */
export const descriptorSetPath: string = fileURLToPath(new URL("../descriptor-set.binpb", import.meta.url));
