import type { analyzerV1, cacheV1, commonV1, executorV1, precomputerV1 } from "@prescient/contracts";
import { allTenants, type Role, type TenantRef } from "./principal.js";

/**
 * What one RPC needs of its caller: a role, and (when the request names
 * tenants) the tenants it touches. `responseTenants` is for RPCs whose
 * request cannot say whose data comes back (GetTask by id): the answer is
 * checked instead, and hidden as NOT_FOUND when it is another tenant's.
 */
export interface RpcPolicy {
  role: Role;
  /** The tenants the request touches; none when the RPC is not tenant-scoped. */
  tenants?: ((request: unknown) => TenantRef[]) | undefined;
  responseTenants?: ((response: unknown) => string[]) | undefined;
}

/** Services no token is asked for: probes and tooling must work before anyone has one. */
export const openServices: ReadonlySet<string> = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

// --- tenant extraction, one function per request type ---------------------

/** A tenant field where empty means "every tenant" (a filter), per the proto's comments. */
const filter = (tenant: string): TenantRef => (tenant === "" ? allTenants : tenant);
/** A Key's tenant; a missing key is "" and so denied to all but `*` tokens, then refused by validation. */
const keyTenant = (key: commonV1.Key | undefined): string => key?.tenant ?? "";
/** A canonical key string `{tenant}/...`: its first segment (tenants cannot contain '/'). */
const keyStringTenant = (key: string): string => {
  const slash = key.indexOf("/");
  return slash < 0 ? key : key.slice(0, slash);
};
/** Events that name a tenant and, optionally, a key that must be the same tenant's. */
const eventTenants = (events: readonly { tenant: string; key?: string }[]): string[] =>
  events.flatMap((e) => (e.key ? [e.tenant, keyStringTenant(e.key)] : [e.tenant]));

/**
 * For RPCs that act on the whole mesh (pause the queue, load a model, drain
 * a cross-tenant list): only an admin of every tenant may call them.
 */
const everyTenant = (): TenantRef[] => [allTenants];

const typed =
  <Req>(extract: (request: Req) => TenantRef[]) =>
  (request: unknown): TenantRef[] =>
    extract(request as Req);

const cache = {
  lookup: typed<cacheV1.LookupRequest>((r) => [keyTenant(r.key)]),
  /** Keys, or the compact form's one tenant (set, or implied by entity ids). */
  lookupMany: typed<cacheV1.LookupManyRequest>((r) => [
    ...r.keys.map(keyTenant),
    ...(r.tenant !== undefined || r.entityIds.length > 0 ? [r.tenant ?? ""] : []),
  ]),
  put: typed<cacheV1.PutRequest>((r) => [keyTenant(r.entry?.key)]),
  putMany: typed<cacheV1.PutManyRequest>((r) => r.entries.map((e) => keyTenant(e.key))),
  invalidate: typed<cacheV1.InvalidateRequest>((r) => [filter(r.tenant)]),
  stats: typed<cacheV1.StatsRequest>((r) => [filter(r.tenant)]),
};

const executor = {
  enqueue: typed<executorV1.EnqueueRequest>((r) => [keyTenant(r.task?.key)]),
  enqueueMany: typed<executorV1.EnqueueManyRequest>((r) => r.tasks.map((t) => keyTenant(t.key))),
  compute: typed<executorV1.ComputeRequest>((r) => [keyTenant(r.key)]),
  /** By key: the key's tenant. By id: nothing here; the answer's task is checked (responseTenants). */
  getTask: typed<executorV1.GetTaskRequest>((r) => (r.key !== undefined ? [keyStringTenant(r.key)] : [])),
  featuresStored: typed<executorV1.FeaturesStoredRequest>((r) => r.entities.map((e) => e.tenant)),
  handle: typed<executorV1.HandleRequest>((r) => r.items.map((i) => i.tenant)),
};

const precomputer = {
  trigger: typed<precomputerV1.TriggerRequest>((r) => [r.event?.tenant ?? ""]),
  triggerMany: typed<precomputerV1.TriggerManyRequest>((r) => r.events.map((e) => e.tenant)),
  warm: typed<precomputerV1.WarmRequest>((r) => [r.tenant]),
  refresh: typed<precomputerV1.RefreshRequest>((r) => [filter(r.tenant)]),
};

const analyzer = {
  recordQueries: typed<analyzerV1.RecordQueriesRequest>((r) => eventTenants(r.events)),
  recordQueryBatch: typed<analyzerV1.RecordQueryBatchRequest>((r) => eventTenants(r.events)),
  recordActions: typed<analyzerV1.RecordActionsRequest>((r) => r.events.map((e) => e.tenant)),
  recordEvents: typed<analyzerV1.RecordEventsRequest>((r) => r.events.map((e) => e.tenant)),
  topPatterns: typed<analyzerV1.TopPatternsRequest>((r) => [filter(r.tenant)]),
  registerLaunch: typed<analyzerV1.RegisterLaunchRequest>((r) => [r.launch?.tenant ?? ""]),
  listUpcomingLaunches: typed<analyzerV1.ListUpcomingLaunchesRequest>((r) => [filter(r.tenant)]),
  predictNextActions: typed<analyzerV1.PredictNextActionsRequest>((r) => [r.tenant]),
  predictNextKeys: typed<analyzerV1.PredictNextKeysRequest>((r) => [keyStringTenant(r.key)]),
  learnedRules: typed<analyzerV1.LearnedRulesRequest>((r) => [filter(r.tenant)]),
  relatedEntities: typed<analyzerV1.RelatedEntitiesRequest>((r) => [r.tenant]),
  readMarks: typed<analyzerV1.ReadMarksRequest>((r) => r.keys.map(keyStringTenant)),
};

const getTaskResponse = (response: unknown): string[] => {
  const task = (response as executorV1.GetTaskResponse).task;
  return task === undefined ? [] : [task.tenant];
};

// --- the table --------------------------------------------------------------

const reader = (tenants?: RpcPolicy["tenants"]): RpcPolicy => ({ role: "reader", tenants });
const writer = (tenants?: RpcPolicy["tenants"]): RpcPolicy => ({ role: "writer", tenants });
const admin = (tenants: RpcPolicy["tenants"]): RpcPolicy => ({ role: "admin", tenants });

/**
 * Every RPC of every prescient service, by its full gRPC path, and what its
 * caller needs. ServiceHost refuses to register a method missing here, and a
 * test fails when the descriptor set has one this table lacks, so a new RPC
 * cannot go out unguarded.
 *
 * Cross-tenant reads with no per-tenant answer (queue and precomputer stats,
 * schedule runs, dead letters, the read-ahead list) need an admin of every
 * tenant rather than being filtered: their answers aggregate every tenant,
 * and filtering a paged list (dead letters) would make short pages that look
 * like the end. Stats, TopPatterns, LearnedRules and ListUpcomingLaunches are
 * scoped by their request's tenant (empty: every tenant, admin only); GetTask
 * by its key's tenant, or by id, by the tenant of the task it finds.
 */
export const rpcPolicies: Readonly<Record<string, RpcPolicy>> = {
  // Cache.
  "/prescient.cache.v1.CacheService/Lookup": reader(cache.lookup),
  "/prescient.cache.v1.CacheService/LookupMany": reader(cache.lookupMany),
  "/prescient.cache.v1.CacheService/Put": writer(cache.put),
  "/prescient.cache.v1.CacheService/PutMany": writer(cache.putMany),
  "/prescient.cache.v1.CacheService/Invalidate": writer(cache.invalidate),
  "/prescient.cache.v1.CacheService/Stats": reader(cache.stats),
  // The precomputer's refresh sweep: keys of every tenant.
  "/prescient.cache.v1.CacheService/TakeRefreshDue": admin(everyTenant),

  // Executor.
  "/prescient.executor.v1.ExecutorService/Enqueue": writer(executor.enqueue),
  "/prescient.executor.v1.ExecutorService/EnqueueMany": writer(executor.enqueueMany),
  "/prescient.executor.v1.ExecutorService/Compute": writer(executor.compute),
  "/prescient.executor.v1.ExecutorService/GetTask": {
    role: "reader",
    tenants: executor.getTask,
    responseTenants: getTaskResponse,
  },
  "/prescient.executor.v1.ExecutorService/QueueStats": admin(everyTenant),
  "/prescient.executor.v1.ExecutorService/ListDeadLetters": admin(everyTenant),
  "/prescient.executor.v1.ExecutorService/RequeueDeadLetters": admin(everyTenant),
  "/prescient.executor.v1.ExecutorService/PurgeDeadLetters": admin(everyTenant),
  "/prescient.executor.v1.ExecutorService/Pause": admin(everyTenant),
  "/prescient.executor.v1.ExecutorService/Resume": admin(everyTenant),
  "/prescient.executor.v1.ExecutorService/FeaturesStored": reader(executor.featuresStored),
  // Called by the executor only: runs a batch of tasks of any tenant.
  "/prescient.executor.v1.TaskHandlerService/Handle": admin(executor.handle),

  // Precomputer.
  "/prescient.precomputer.v1.PrecomputerService/Trigger": writer(precomputer.trigger),
  "/prescient.precomputer.v1.PrecomputerService/TriggerMany": writer(precomputer.triggerMany),
  "/prescient.precomputer.v1.PrecomputerService/Warm": admin(precomputer.warm),
  "/prescient.precomputer.v1.PrecomputerService/Refresh": admin(precomputer.refresh),
  "/prescient.precomputer.v1.PrecomputerService/ListRuns": admin(everyTenant),
  "/prescient.precomputer.v1.PrecomputerService/RunScheduleNow": admin(everyTenant),
  "/prescient.precomputer.v1.PrecomputerService/Stats": admin(everyTenant),

  // Predictor: OIP inference. Models are shared, not a tenant's.
  "/inference.GRPCInferenceService/ServerLive": reader(),
  "/inference.GRPCInferenceService/ServerReady": reader(),
  "/inference.GRPCInferenceService/ModelReady": reader(),
  "/inference.GRPCInferenceService/ServerMetadata": reader(),
  "/inference.GRPCInferenceService/ModelMetadata": reader(),
  // Spends compute, so a writer's, like Compute.
  "/inference.GRPCInferenceService/ModelInfer": writer(),
  // Predictor: model repository.
  "/prescient.predictor.v1.ModelRepositoryService/ListModels": reader(),
  "/prescient.predictor.v1.ModelRepositoryService/LoadModel": admin(everyTenant),
  "/prescient.predictor.v1.ModelRepositoryService/UnloadModel": admin(everyTenant),

  // Analyzer.
  "/prescient.analyzer.v1.AnalyzerService/RecordQueries": writer(analyzer.recordQueries),
  "/prescient.analyzer.v1.AnalyzerService/RecordQueryBatch": writer(analyzer.recordQueryBatch),
  "/prescient.analyzer.v1.AnalyzerService/RecordActions": writer(analyzer.recordActions),
  "/prescient.analyzer.v1.AnalyzerService/RecordEvents": writer(analyzer.recordEvents),
  "/prescient.analyzer.v1.AnalyzerService/TopPatterns": reader(analyzer.topPatterns),
  // The mesh's load by hour: no tenant's data.
  "/prescient.analyzer.v1.AnalyzerService/OffPeakWindow": reader(),
  "/prescient.analyzer.v1.AnalyzerService/RegisterLaunch": writer(analyzer.registerLaunch),
  "/prescient.analyzer.v1.AnalyzerService/ListUpcomingLaunches": reader(analyzer.listUpcomingLaunches),
  "/prescient.analyzer.v1.AnalyzerService/PredictNextActions": reader(analyzer.predictNextActions),
  "/prescient.analyzer.v1.AnalyzerService/PredictNextKeys": reader(analyzer.predictNextKeys),
  // Drains the read-ahead list of every tenant.
  "/prescient.analyzer.v1.AnalyzerService/TakeReadAhead": admin(everyTenant),
  "/prescient.analyzer.v1.AnalyzerService/RetrainNextAction": admin(everyTenant),
  "/prescient.analyzer.v1.AnalyzerService/Cleanup": admin(everyTenant),
  "/prescient.analyzer.v1.AnalyzerService/LearnedRules": reader(analyzer.learnedRules),
  "/prescient.analyzer.v1.AnalyzerService/RelatedEntities": reader(analyzer.relatedEntities),
  "/prescient.analyzer.v1.AnalyzerService/ReadMarks": reader(analyzer.readMarks),
};

/** The policy of a full path `/pkg.Service/Method`, or undefined when the table lacks it. */
export function rpcPolicy(path: string): RpcPolicy | undefined {
  return Object.hasOwn(rpcPolicies, path) ? rpcPolicies[path] : undefined;
}

/** The service of a full path: `/pkg.Service/Method` → `pkg.Service`. */
export function serviceOfPath(path: string): string {
  return path.slice(1, path.lastIndexOf("/"));
}
