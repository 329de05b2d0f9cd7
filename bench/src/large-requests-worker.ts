import { parentPort, workerData } from "node:worker_threads";
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { largeCases } from "./large-requests-cases.js";

/** Encodes one large request in this thread and sends it as raw bytes; answers its time and status. */
const identity = (b: Buffer): Buffer => b;
const job = workerData as { address: string; path: string; caseIndex: number };
const c = largeCases[job.caseIndex];
if (parentPort !== null && c !== undefined) {
  const bytes = c.bytes();
  const client = new Client(job.address, credentials.createInsecure(), {
    "grpc.max_send_message_length": 16 * 1024 * 1024,
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
  });
  const began = performance.now();
  client.makeUnaryRequest(
    job.path,
    identity,
    identity,
    bytes,
    new Metadata(),
    { deadline: Date.now() + 120_000 },
    (e: ServiceError | null) => {
      client.close();
      parentPort?.postMessage({
        ms: performance.now() - began,
        code: e?.code ?? 0,
        details: (e?.details ?? "").slice(0, 200),
      });
    },
  );
}
