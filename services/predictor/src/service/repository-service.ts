import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import { predictorV1 } from "@prescient/contracts";
import { FailedPreconditionError, InvalidArgumentError } from "@prescient/core";
import { unary } from "@prescient/kit";
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
  reason: s.reason,
  executionProvider: s.provider,
});

const nameOf = (name: string): string => {
  if (name === "") throw new InvalidArgumentError("name is required");
  return name;
};

/** prescient.predictor.v1.ModelRepositoryService: list, load and unload, over the repository. */
export function repositoryService(repository: ModelRepository): UntypedServiceImplementation {
  return {
    listModels: unary(repositoryServiceName, "ListModels", async (r: predictorV1.ListModelsRequest) => ({
      models: (await repository.list(r.readyOnly)).map(toProto),
    })),
    loadModel: unary(repositoryServiceName, "LoadModel", async (r: predictorV1.LoadModelRequest) => {
      const versions = await repository.load(nameOf(r.name));
      // Like Triton, a load that leaves a version failed is an error, not a quiet status.
      const failed = versions.filter((v) => v.state === "FAILED");
      if (failed.length > 0)
        throw new FailedPreconditionError(
          failed.map((v) => `${v.model} version ${v.version}: ${v.reason}`).join("; "),
        );
      return { versions: versions.map(toProto) };
    }),
    unloadModel: unary(repositoryServiceName, "UnloadModel", async (r: predictorV1.UnloadModelRequest) => ({
      versions: (await repository.unload(nameOf(r.name))).map(toProto),
    })),
  };
}
