import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Client,
  credentials,
  Metadata,
  type ServiceDefinition,
  type ServiceError,
  status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { analyzerV1, cacheV1, executorV1, inference, precomputerV1, predictorV1 } from "@prescient/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientStream, unary } from "../handlers.js";
import { ServiceHost } from "../service-host.js";
import { describedMethods } from "./auth.test-util.js";
import { Authenticator } from "./authenticator.js";
import { allTenants, type Role, roles } from "./principal.js";
import { openServices, rpcPolicy, serviceOfPath } from "./rpc-policy.js";
import { hashToken } from "./token-file.js";

/**
 * Every RPC of every service, driven from the RPC table: one host carries
 * every service with stub handlers (auth is the host's business, not the
 * handlers'), and each method is called with no token, an unknown one, a
 * role too low, another tenant's, and the least token that should pass.
 */
const T = "acme";
const key = { tenant: T, taskType: "ctr", entityId: "e1" };
const queryEvent = { tenant: T, taskType: "ctr", entityId: "e1" };

/** A request naming tenant acme for every RPC that carries a tenant; the others take an empty request. */
const samples: Record<string, unknown> = {
  "/prescient.cache.v1.CacheService/Lookup": cacheV1.LookupRequest.fromPartial({ key }),
  "/prescient.cache.v1.CacheService/LookupMany": cacheV1.LookupManyRequest.fromPartial({ keys: [key, key] }),
  "/prescient.cache.v1.CacheService/Put": cacheV1.PutRequest.fromPartial({ entry: { key } }),
  "/prescient.cache.v1.CacheService/PutMany": cacheV1.PutManyRequest.fromPartial({ entries: [{ key }] }),
  "/prescient.cache.v1.CacheService/Invalidate": cacheV1.InvalidateRequest.fromPartial({ tenant: T }),
  "/prescient.cache.v1.CacheService/Stats": cacheV1.StatsRequest.fromPartial({ tenant: T }),
  "/prescient.executor.v1.ExecutorService/Enqueue": executorV1.EnqueueRequest.fromPartial({ task: { key } }),
  "/prescient.executor.v1.ExecutorService/EnqueueMany": executorV1.EnqueueManyRequest.fromPartial({
    tasks: [{ key }],
  }),
  "/prescient.executor.v1.ExecutorService/Compute": executorV1.ComputeRequest.fromPartial({ key }),
  "/prescient.executor.v1.ExecutorService/GetTask": executorV1.GetTaskRequest.fromPartial({
    key: "acme/ctr/e1",
  }),
  "/prescient.executor.v1.ExecutorService/FeaturesStored": executorV1.FeaturesStoredRequest.fromPartial({
    entities: [{ tenant: T, entityId: "e1" }],
  }),
  "/prescient.executor.v1.TaskHandlerService/Handle": executorV1.HandleRequest.fromPartial({
    taskType: "ctr",
    items: [{ taskId: "1", key: "acme/ctr/e1", tenant: T, entityId: "e1" }],
  }),
  "/prescient.precomputer.v1.PrecomputerService/Trigger": precomputerV1.TriggerRequest.fromPartial({
    event: { type: "x", tenant: T, entityId: "e1" },
  }),
  "/prescient.precomputer.v1.PrecomputerService/TriggerMany": precomputerV1.TriggerManyRequest.fromPartial({
    events: [{ type: "x", tenant: T, entityId: "e1" }],
  }),
  "/prescient.precomputer.v1.PrecomputerService/Warm": precomputerV1.WarmRequest.fromPartial({ tenant: T }),
  "/prescient.precomputer.v1.PrecomputerService/Refresh": precomputerV1.RefreshRequest.fromPartial({
    taskType: "ctr",
    tenant: T,
  }),
  "/prescient.analyzer.v1.AnalyzerService/RecordQueries": analyzerV1.RecordQueriesRequest.fromPartial({
    events: [queryEvent],
  }),
  "/prescient.analyzer.v1.AnalyzerService/RecordQueryBatch": analyzerV1.RecordQueryBatchRequest.fromPartial({
    events: [queryEvent],
  }),
  "/prescient.analyzer.v1.AnalyzerService/RecordActions": analyzerV1.RecordActionsRequest.fromPartial({
    events: [{ tenant: T, userId: "u", action: "view" }],
  }),
  "/prescient.analyzer.v1.AnalyzerService/RecordEvents": analyzerV1.RecordEventsRequest.fromPartial({
    events: [{ tenant: T, type: "x", entityId: "e1" }],
  }),
  "/prescient.analyzer.v1.AnalyzerService/TopPatterns": analyzerV1.TopPatternsRequest.fromPartial({
    tenant: T,
  }),
  "/prescient.analyzer.v1.AnalyzerService/RegisterLaunch": analyzerV1.RegisterLaunchRequest.fromPartial({
    launch: { tenant: T },
  }),
  "/prescient.analyzer.v1.AnalyzerService/ListUpcomingLaunches":
    analyzerV1.ListUpcomingLaunchesRequest.fromPartial({ tenant: T }),
  "/prescient.analyzer.v1.AnalyzerService/PredictNextActions":
    analyzerV1.PredictNextActionsRequest.fromPartial({
      tenant: T,
    }),
  "/prescient.analyzer.v1.AnalyzerService/PredictNextKeys": analyzerV1.PredictNextKeysRequest.fromPartial({
    key: "acme/ctr/e1",
  }),
  "/prescient.analyzer.v1.AnalyzerService/LearnedRules": analyzerV1.LearnedRulesRequest.fromPartial({
    tenant: T,
  }),
  "/prescient.analyzer.v1.AnalyzerService/RelatedEntities": analyzerV1.RelatedEntitiesRequest.fromPartial({
    tenant: T,
    subject: "e1",
  }),
  "/prescient.analyzer.v1.AnalyzerService/ReadMarks": analyzerV1.ReadMarksRequest.fromPartial({
    keys: ["acme/ctr/e1"],
  }),
};

const definitions: Record<string, ServiceDefinition> = {
  "prescient.cache.v1.CacheService": cacheV1.CacheServiceService,
  "prescient.executor.v1.ExecutorService": executorV1.ExecutorServiceService,
  "prescient.executor.v1.TaskHandlerService": executorV1.TaskHandlerServiceService,
  "prescient.precomputer.v1.PrecomputerService": precomputerV1.PrecomputerServiceService,
  "inference.GRPCInferenceService": inference.GRPCInferenceServiceService,
  "prescient.predictor.v1.ModelRepositoryService": predictorV1.ModelRepositoryServiceService,
  "prescient.analyzer.v1.AnalyzerService": analyzerV1.AnalyzerServiceService,
};

const attrsOf = (path: string) => {
  const def = definitions[serviceOfPath(path)];
  const attrs = def && Object.values(def).find((a) => a.path === path);
  if (attrs === undefined) throw new Error(`no definition for ${path}`);
  return attrs;
};

/** Empty answers, except GetTask, which finds a task of tenant acme whatever is asked. */
function stubs(service: string, definition: ServiceDefinition): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const [name, attrs] of Object.entries(definition)) {
    const empty = () => attrs.responseDeserialize(Buffer.alloc(0));
    impl[name] = attrs.requestStream
      ? clientStream(service, name, async (messages: AsyncIterable<unknown>) => {
          for await (const _ of messages);
          return empty();
        })
      : unary(service, name, async () =>
          attrs.path.endsWith("/GetTask")
            ? executorV1.GetTaskResponse.fromPartial({ task: { id: "7", tenant: T } })
            : empty(),
        );
  }
  return impl;
}

type Grant = "acme" | "other" | "*";
const tokenOf = (role: Role, grant: Grant) => `token-${role}-${grant === "*" ? "all" : grant}-0123456789`;
const peerToken = "peer-token-0123456789abcdef";

let dir = "";
let host: ServiceHost;
let client: Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "prescient-auth-"));
  const tokensFile = join(dir, "tokens.jsonl");
  const lines = roles.flatMap((role) =>
    (["acme", "other", "*"] as const).map((grant) =>
      JSON.stringify({
        hash: hashToken(tokenOf(role, grant)),
        name: `${role}@${grant}`,
        role,
        tenants: grant === "*" ? "*" : [grant],
      }),
    ),
  );
  writeFileSync(tokensFile, `# test tokens\n${lines.join("\n")}\n`);
  host = new ServiceHost({
    address: "127.0.0.1:0",
    drainTimeoutMs: 100,
    auth: new Authenticator({ tokensFile, peerToken: () => peerToken }),
  });
  for (const [service, definition] of Object.entries(definitions))
    host.addService(service, definition, stubs(service, definition));
  await host.start();
  client = new Client(host.address, credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await host?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function call(path: string, token: string | undefined, request = samples[path]): Promise<status> {
  const attrs = attrsOf(path);
  const body = request ?? attrs.requestDeserialize(Buffer.alloc(0));
  const metadata = new Metadata();
  if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
  return new Promise((resolve) => {
    const done = (e: ServiceError | null) => resolve(e === null ? status.OK : e.code);
    const options = { deadline: Date.now() + 5_000 };
    if (attrs.requestStream) {
      const stream = client.makeClientStreamRequest(
        path,
        attrs.requestSerialize,
        attrs.responseDeserialize,
        metadata,
        options,
        done,
      );
      const messages = Array.isArray(request) ? request : [body];
      for (const m of messages) stream.write(m);
      stream.end();
    } else {
      client.makeUnaryRequest(
        path,
        attrs.requestSerialize,
        attrs.responseDeserialize,
        body,
        metadata,
        options,
        done,
      );
    }
  });
}

const guarded = describedMethods().filter((p) => !openServices.has(serviceOfPath(p)));

/** What the sample touches: whether it names a tenant, and whether it acts on every tenant. */
function scope(path: string): { tenantScoped: boolean; everyTenant: boolean } {
  const policy = rpcPolicy(path);
  const request = samples[path] ?? attrsOf(path).requestDeserialize(Buffer.alloc(0));
  const tenants = policy?.tenants?.(request) ?? [];
  return { tenantScoped: tenants.length > 0, everyTenant: tenants.includes(allTenants) };
}

describe("auth on every RPC", () => {
  it("serves every method of the descriptor set", () => {
    for (const path of guarded) expect(() => attrsOf(path)).not.toThrow();
  });

  it.each(guarded)("%s", async (path) => {
    const policy = rpcPolicy(path);
    if (policy === undefined) throw new Error(`${path} is not in the table`);
    const { tenantScoped, everyTenant } = scope(path);
    // Every tenant-carrying sample must name acme, or the tenant checks below test nothing.
    if (tenantScoped && !everyTenant) expect(policy.tenants?.(samples[path])).toContain(T);
    const grant: Grant = everyTenant ? "*" : "acme";

    expect(await call(path, undefined), "no token").toBe(status.UNAUTHENTICATED);
    expect(await call(path, "not-a-known-token-at-all"), "unknown token").toBe(status.UNAUTHENTICATED);
    expect(await call(path, tokenOf(policy.role, grant)), "the least token that should pass").toBe(status.OK);
    expect(await call(path, peerToken), "the peer token").toBe(status.OK);
    const below = roles[roles.indexOf(policy.role) - 1];
    if (below !== undefined)
      expect(await call(path, tokenOf(below, "*")), `role ${below}`).toBe(status.PERMISSION_DENIED);
    if (tenantScoped)
      expect(await call(path, tokenOf("admin", "other")), "another tenant's admin").toBe(
        status.PERMISSION_DENIED,
      );
  });
});

describe("tenant scoping", () => {
  it("needs an admin of every tenant for an empty tenant filter", async () => {
    const stats = "/prescient.cache.v1.CacheService/Stats";
    const all = cacheV1.StatsRequest.fromPartial({ tenant: "" });
    expect(await call(stats, tokenOf("reader", "*"), all)).toBe(status.PERMISSION_DENIED);
    expect(await call(stats, tokenOf("admin", "acme"), all)).toBe(status.PERMISSION_DENIED);
    expect(await call(stats, tokenOf("admin", "*"), all)).toBe(status.OK);
  });

  it("hides another tenant's task found by id as NOT_FOUND", async () => {
    const getTask = "/prescient.executor.v1.ExecutorService/GetTask";
    const byId = executorV1.GetTaskRequest.fromPartial({ id: "7" });
    expect(await call(getTask, tokenOf("reader", "acme"), byId)).toBe(status.OK);
    expect(await call(getTask, tokenOf("reader", "other"), byId)).toBe(status.NOT_FOUND);
  });

  it("checks every message of a client stream and every key of a batch", async () => {
    const record = "/prescient.analyzer.v1.AnalyzerService/RecordQueries";
    const mixed = [
      analyzerV1.RecordQueriesRequest.fromPartial({ events: [queryEvent] }),
      analyzerV1.RecordQueriesRequest.fromPartial({ events: [{ ...queryEvent, tenant: "other" }] }),
    ];
    expect(await call(record, tokenOf("writer", "acme"), mixed)).toBe(status.PERMISSION_DENIED);
    const lookupMany = "/prescient.cache.v1.CacheService/LookupMany";
    const many = cacheV1.LookupManyRequest.fromPartial({ keys: [key, { ...key, tenant: "other" }] });
    expect(await call(lookupMany, tokenOf("reader", "acme"), many)).toBe(status.PERMISSION_DENIED);
    // The compact form names its tenant once: that one is checked.
    const ids = (tenant: string) =>
      cacheV1.LookupManyRequest.fromPartial({ tenant, taskType: "ctr", entityIds: ["e1", "e2"] });
    expect(await call(lookupMany, tokenOf("reader", "acme"), ids("other"))).toBe(status.PERMISSION_DENIED);
    expect(await call(lookupMany, tokenOf("reader", "acme"), ids("acme"))).not.toBe(status.PERMISSION_DENIED);
    const marks = analyzerV1.ReadMarksRequest.fromPartial({ keys: ["acme/ctr/e1", "other/ctr/e1"] });
    expect(
      await call("/prescient.analyzer.v1.AnalyzerService/ReadMarks", tokenOf("reader", "acme"), marks),
    ).toBe(status.PERMISSION_DENIED);
  });

  it("refuses to register a method the table lacks", () => {
    const extra = new ServiceHost({ auth: host.options.auth });
    const definition = {
      nope: { ...attrsOf("/prescient.cache.v1.CacheService/Lookup"), path: "/x.v1.Unknown/Nope" },
    } as unknown as ServiceDefinition;
    expect(() => extra.addService("x.v1.Unknown", definition, { nope: () => undefined })).toThrow(/no entry/);
  });
});
