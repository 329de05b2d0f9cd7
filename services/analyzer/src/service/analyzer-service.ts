import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { analyzerV1 } from "@prescient/contracts";
import { InvalidArgumentError, isDomainError, UnavailableError } from "@prescient/core";
import { clientStream, unary } from "@prescient/kit";
import type { Analyzer } from "../analyzer.js";
import { emptyIngestResult } from "../core/events.js";
import { ingestResponse, keyByEnum, launchMessage, retrainResponse, sourceEnum } from "./proto-mapping.js";

/**
 * The gRPC adapter of prescient.analyzer.v1.AnalyzerService: decode, call the
 * core, encode. Errors that are not domain errors come from the store (Redis
 * down, a script failing) and answer UNAVAILABLE.
 */
export const analyzerServiceName = "prescient.analyzer.v1.AnalyzerService";

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (isDomainError(e)) throw e;
    throw new UnavailableError(`analyzer store: ${(e as Error).message}`);
  }
}

export function analyzerService(analyzer: Analyzer): UntypedServiceImplementation {
  const s = analyzerServiceName;
  return {
    recordQueries: clientStream<analyzerV1.RecordQueriesRequest, analyzerV1.RecordQueriesResponse>(
      s,
      "RecordQueries",
      async (messages) => {
        const result = emptyIngestResult();
        const stream = analyzer.queryStream(result);
        let offset = 0;
        try {
          for await (const message of messages) {
            await guard(() => stream.push(message.events, offset));
            offset += message.events.length;
          }
        } finally {
          // Whatever was accepted before a failure is applied before the call ends.
          await stream.end().catch(() => undefined);
        }
        await guard(() => stream.end());
        return ingestResponse(result);
      },
    ),
    recordQueryBatch: unary<analyzerV1.RecordQueryBatchRequest, analyzerV1.RecordQueryBatchResponse>(
      s,
      "RecordQueryBatch",
      async (req) => {
        const result = emptyIngestResult();
        await guard(() => analyzer.recordQueries(req.events, result));
        return ingestResponse(result);
      },
    ),
    recordActions: unary<analyzerV1.RecordActionsRequest, analyzerV1.RecordActionsResponse>(
      s,
      "RecordActions",
      async (req) => {
        const result = emptyIngestResult();
        await guard(() => analyzer.recordActions(req.events, result));
        return ingestResponse(result);
      },
    ),
    topPatterns: unary<analyzerV1.TopPatternsRequest, analyzerV1.TopPatternsResponse>(
      s,
      "TopPatterns",
      async (req) => ({
        patterns: await guard(() =>
          analyzer.topPatterns({ limit: req.limit, taskType: req.taskType, tenant: req.tenant }),
        ),
      }),
    ),
    offPeakWindow: unary<analyzerV1.OffPeakWindowRequest, analyzerV1.OffPeakWindowResponse>(
      s,
      "OffPeakWindow",
      async (req) => {
        const w = await guard(() =>
          analyzer.offPeakWindow({ durationMinutes: req.durationMinutes, timeZone: req.timezone }),
        );
        return {
          startMinuteOfWeek: w.startMinuteOfWeek,
          durationMinutes: w.durationMinutes,
          nextStart: new Date(w.nextStart),
          isDefault: w.isDefault,
          explanation: w.explanation,
          relativeLoad: w.relativeLoad,
        };
      },
    ),
    registerLaunch: unary<analyzerV1.RegisterLaunchRequest, analyzerV1.RegisterLaunchResponse>(
      s,
      "RegisterLaunch",
      async (req) => {
        if (req.launch === undefined) throw new InvalidArgumentError("launch is required");
        const launch = req.launch;
        return { launch: launchMessage(await guard(() => analyzer.registerLaunch(launch))) };
      },
    ),
    listUpcomingLaunches: unary<
      analyzerV1.ListUpcomingLaunchesRequest,
      analyzerV1.ListUpcomingLaunchesResponse
    >(s, "ListUpcomingLaunches", async (req) => ({
      launches: (await guard(() => analyzer.upcomingLaunches(req.hoursAhead, req.tenant))).map(launchMessage),
    })),
    predictNextActions: unary<analyzerV1.PredictNextActionsRequest, analyzerV1.PredictNextActionsResponse>(
      s,
      "PredictNextActions",
      async (req) => {
        const at = req.at?.getTime();
        if (at !== undefined && !Number.isFinite(at))
          throw new InvalidArgumentError("at is not a valid timestamp");
        const p = await guard(() =>
          analyzer.predictNextActions({ tenant: req.tenant, userId: req.userId, limit: req.limit, at }),
        );
        return {
          actions: p.actions,
          source: sourceEnum[p.source],
          modelVersion: p.modelVersion,
          fallbackReason: p.fallbackReason,
        };
      },
    ),
    predictNextKeys: unary<analyzerV1.PredictNextKeysRequest, analyzerV1.PredictNextKeysResponse>(
      s,
      "PredictNextKeys",
      async (req) => ({ keys: await guard(() => analyzer.predictNextKeys(req.key, req.limit)) }),
    ),
    takeReadAhead: unary<analyzerV1.TakeReadAheadRequest, analyzerV1.TakeReadAheadResponse>(
      s,
      "TakeReadAhead",
      async (req) => ({ keys: await guard(async () => analyzer.takeReadAhead(req.limit)) }),
    ),
    retrainNextAction: unary<analyzerV1.RetrainNextActionRequest, analyzerV1.RetrainNextActionResponse>(
      s,
      "RetrainNextAction",
      async () => retrainResponse(await guard(() => analyzer.retrainNextAction())),
    ),
    recordEvents: unary<analyzerV1.RecordEventsRequest, analyzerV1.RecordEventsResponse>(
      s,
      "RecordEvents",
      async (req) => {
        const result = emptyIngestResult();
        analyzer.recordEvents(req.events, result);
        return ingestResponse(result);
      },
    ),
    learnedRules: unary<analyzerV1.LearnedRulesRequest, analyzerV1.LearnedRulesResponse>(
      s,
      "LearnedRules",
      async (req) => ({
        rules: analyzer.learnedRules(req.tenant).map((r) => ({
          ...r,
          targets: r.targets.map((t) => ({ ...t, keyBy: keyByEnum[t.keyBy] })),
        })),
      }),
    ),
    relatedEntities: unary<analyzerV1.RelatedEntitiesRequest, analyzerV1.RelatedEntitiesResponse>(
      s,
      "RelatedEntities",
      async (req) => ({
        entities: analyzer.relatedEntities(
          req.tenant,
          req.subject,
          req.limit,
          req.taskType === "" ? undefined : req.taskType,
        ),
      }),
    ),
    cleanup: unary<analyzerV1.CleanupRequest, analyzerV1.CleanupResponse>(s, "Cleanup", async (req) => ({
      removed: BigInt(await guard(() => analyzer.cleanup(req.daysToKeep))),
    })),
  };
}
