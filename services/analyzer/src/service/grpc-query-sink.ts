import type { analyzerV1 } from "@prescient/contracts";
import { callUnary } from "@prescient/kit";
import type { QuerySink } from "../query-reporter.js";

/** A QueryReporter sink that sends each batch with RecordQueryBatch, under a deadline. */
export function grpcQuerySink(client: analyzerV1.AnalyzerServiceClient, timeoutMs = 2_000): QuerySink {
  return (events) => callUnary(client.recordQueryBatch.bind(client), { events }, { timeoutMs });
}
