import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { inference, predictorV1 } from "@prescient/contracts";
import { callUnary, ServiceHost } from "@prescient/kit";
import { pino } from "pino";
import { type PredictorOptions, type PredictorRuntime, startPredictor } from "./predictor.js";

/** Test helpers: temporary model repositories and a predictor on loopback. */
export const quietLogger = pino({ level: "silent" });

export function tempRepository(): { root: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), "prescient-models-"));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export function writeModel(
  root: string,
  model: string,
  version: number,
  bytes: Uint8Array,
  config?: string,
): void {
  mkdirSync(join(root, model, String(version)), { recursive: true });
  writeFileSync(join(root, model, String(version), "model.onnx"), bytes);
  if (config !== undefined) writeFileSync(join(root, model, "config.yaml"), config);
}

/** A request as tests write it: any field may be left out. */
export type InferRequest = inference.DeepPartial<inference.ModelInferRequest>;

export interface TestPredictor {
  host: ServiceHost;
  runtime: PredictorRuntime;
  address: string;
  client: inference.GRPCInferenceServiceClient;
  repoClient: predictorV1.ModelRepositoryServiceClient;
  infer(request: InferRequest, timeoutMs?: number): Promise<inference.ModelInferResponse>;
  close(): Promise<void>;
}

export async function startTestPredictor(options?: Partial<PredictorOptions>): Promise<TestPredictor> {
  const host = new ServiceHost({ address: "127.0.0.1:0", logger: quietLogger, drainTimeoutMs: 2000 });
  const runtime = startPredictor(host, { logger: quietLogger, pollIntervalMs: 0, ...options });
  await host.start();
  const address = host.address;
  const client = new inference.GRPCInferenceServiceClient(address, credentials.createInsecure());
  const repoClient = new predictorV1.ModelRepositoryServiceClient(address, credentials.createInsecure());
  return {
    host,
    runtime,
    address,
    client,
    repoClient,
    infer: (request, timeoutMs) =>
      callUnary(
        client.modelInfer.bind(client),
        inference.ModelInferRequest.fromPartial(request),
        timeoutMs !== undefined ? { timeoutMs } : {},
      ),
    close: async () => {
      client.close();
      repoClient.close();
      await host.shutdown();
    },
  };
}
