import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import { predictorV1 } from "@prescient/contracts";
import { FailedPreconditionError, InvalidArgumentError } from "@prescient/core";
import { safeErrorDetails, unary } from "@prescient/kit";
import type { ModelRepository, VersionState, VersionStatus } from "../repository/model-repository.js";

export const repositoryServiceName = "prescient.predictor.v1.ModelRepositoryService";

const stateOf: Record<VersionState, predictorV1.ModelState> = {
  AVAILABLE: predictorV1.ModelState.MODEL_STATE_AVAILABLE,
  LOADING: predictorV1.ModelState.MODEL_STATE_LOADING,
  READY: predictorV1.ModelState.MODEL_STATE_READY,
  UNLOADING: predictorV1.ModelState.MODEL_STATE_UNLOADING,
  FAILED: predictorV1.ModelState.MODEL_STATE_FAILED,
};

const toProto = (s: VersionStatus): predictorV1.ModelVersionStatus => ({
  name: s.model,
  version: String(s.version),
  state: stateOf[s.state],
  // A load failure's reason is an error message too, and often names the model file's full path.
  reason: safeErrorDetails(s.reason),
  executionProvider: s.provider,
});

const nameOf = (name: string): string => {
  if (name === "") throw new InvalidArgumentError("name is required");
  return name;
};

/**
 * prescient.predictor.v1.ModelRepositoryService: list, load and unload, over
 * the repository. `onChange` runs after every load or unload, failed ones
 * included, so the predictor's health can follow the models.
 */
export function repositoryService(
  repository: ModelRepository,
  onChange: () => void = () => undefined,
): UntypedServiceImplementation {
  const changing = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } finally {
      onChange();
    }
  };
  return {
    listModels: unary(repositoryServiceName, "ListModels", async (r: predictorV1.ListModelsRequest) => ({
      models: (await repository.list(r.readyOnly)).map(toProto),
    })),
    loadModel: unary(repositoryServiceName, "LoadModel", async (r: predictorV1.LoadModelRequest) => {
      const versions = await changing(() => repository.load(nameOf(r.name)));
      // Like Triton, a load that leaves a version failed is an error, not a quiet status.
      const failed = versions.filter((v) => v.state === "FAILED");
      if (failed.length > 0)
        throw new FailedPreconditionError(
          failed.map((v) => `${v.model} version ${v.version}: ${v.reason}`).join("; "),
        );
      return { versions: versions.map(toProto) };
    }),
    unloadModel: unary(repositoryServiceName, "UnloadModel", async (r: predictorV1.UnloadModelRequest) => ({
      versions: (await changing(() => repository.unload(nameOf(r.name)))).map(toProto),
    })),
  };
}
