import { Deployment, type IDeployment } from "kubernetes-models/apps/v1/Deployment";
import { type IStatefulSet, StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import {
  HorizontalPodAutoscaler,
  type IHorizontalPodAutoscaler,
} from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { type INetworkPolicy, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import {
  type IPodDisruptionBudget,
  PodDisruptionBudget,
} from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap, type IConfigMap } from "kubernetes-models/v1/ConfigMap";
import { type INamespace, Namespace } from "kubernetes-models/v1/Namespace";
import type { IProbe } from "kubernetes-models/v1/Probe";
import { type IService, Service } from "kubernetes-models/v1/Service";
import { type IServiceAccount, ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { expect } from "vitest";
import type { Manifest } from "./kustomize.js";
import {
  envOf,
  envVar,
  isMesh,
  mainContainer,
  named,
  of,
  podSpec,
  selects,
  type Workload,
  workloads,
} from "./objects.js";

/**
 * The checks every rendered build must pass: the Kubernetes schema
 * (kubernetes-models), and what the schema cannot see: hardening, unknown
 * fields (kubernetes-models ignores them), the mesh services' shape, and
 * references between objects.
 */

/**
 * The mesh's Deployments: the five services and the example task handler
 * (`serve task-handler`), each with its gRPC health name and the peers it is told about.
 */
export const MESH: Record<string, { health: string; redis: boolean; peers: Record<string, string> }> = {
  analyzer: {
    health: "prescient.analyzer.v1.AnalyzerService",
    redis: true,
    peers: { PRESCIENT_PREDICTOR_ADDR: "predictor:50051" },
  },
  predictor: { health: "inference.GRPCInferenceService", redis: false, peers: {} },
  precomputer: {
    health: "prescient.precomputer.v1.PrecomputerService",
    redis: true,
    peers: {
      PRESCIENT_ANALYZER_ADDR: "analyzer:50051",
      PRESCIENT_CACHE_ADDR: "cache:50051",
      PRESCIENT_EXECUTOR_ADDR: "executor:50051",
    },
  },
  executor: {
    health: "prescient.executor.v1.ExecutorService",
    redis: true,
    peers: {
      PRESCIENT_PREDICTOR_ADDR: "predictor:50051",
      PRESCIENT_CACHE_ADDR: "cache:50051",
      // Without a handler, a fresh deploy dead-letters every external task.
      PRESCIENT_HANDLER_ADDR: "task-handler:50051",
    },
  },
  cache: {
    health: "prescient.cache.v1.CacheService",
    redis: true,
    peers: { PRESCIENT_EXECUTOR_ADDR: "executor:50051", PRESCIENT_ANALYZER_ADDR: "analyzer:50051" },
  },
  // Stateless: each Handle is answered from its request.
  "task-handler": { health: "prescient.executor.v1.TaskHandlerService", redis: false, peers: {} },
};
export const MESH_NAMES = Object.keys(MESH);
// Fields these manifests may use. kubernetes-models accepts any extra key, so
// a typo such as `readOnlyRootFileSystem` would otherwise pass unnoticed.
const CONTAINER_KEYS = new Set([
  "name",
  "image",
  "imagePullPolicy",
  "command",
  "args",
  "ports",
  "env",
  "envFrom",
  "resources",
  "securityContext",
  "startupProbe",
  "readinessProbe",
  "livenessProbe",
  "volumeMounts",
]);
const POD_SPEC_KEYS = new Set([
  "serviceAccountName",
  "automountServiceAccountToken",
  "terminationGracePeriodSeconds",
  "securityContext",
  "containers",
  "volumes",
  "nodeSelector",
  "tolerations",
  "topologySpreadConstraints",
]);
const PROBE_KEYS = new Set([
  "grpc",
  "httpGet",
  "tcpSocket",
  "exec",
  "initialDelaySeconds",
  "periodSeconds",
  "timeoutSeconds",
  "failureThreshold",
  "successThreshold",
]);
const CONTAINER_SECURITY_KEYS = new Set([
  "allowPrivilegeEscalation",
  "privileged",
  "readOnlyRootFilesystem",
  "capabilities",
]);
const POD_SECURITY_KEYS = new Set([
  "runAsNonRoot",
  "runAsUser",
  "runAsGroup",
  "fsGroup",
  "fsGroupChangePolicy",
  "seccompProfile",
]);
const WORKLOAD_SPEC_KEYS: Record<string, Set<string>> = {
  Deployment: new Set(["replicas", "selector", "strategy", "template"]),
  StatefulSet: new Set([
    "replicas",
    "selector",
    "serviceName",
    "template",
    "updateStrategy",
    "podManagementPolicy",
    "volumeClaimTemplates",
    "persistentVolumeClaimRetentionPolicy",
  ]),
};

type Validator = (m: Manifest) => { validate(): void };
const MODELS: Record<string, Validator> = {
  "v1/Namespace": (m) => new Namespace(m as INamespace),
  "v1/ServiceAccount": (m) => new ServiceAccount(m as IServiceAccount),
  "v1/Service": (m) => new Service(m as IService),
  "v1/ConfigMap": (m) => new ConfigMap(m as IConfigMap),
  "apps/v1/Deployment": (m) => new Deployment(m as IDeployment),
  "apps/v1/StatefulSet": (m) => new StatefulSet(m as IStatefulSet),
  "autoscaling/v2/HorizontalPodAutoscaler": (m) => new HorizontalPodAutoscaler(m as IHorizontalPodAutoscaler),
  "policy/v1/PodDisruptionBudget": (m) => new PodDisruptionBudget(m as IPodDisruptionBudget),
  "networking.k8s.io/v1/NetworkPolicy": (m) => new NetworkPolicy(m as INetworkPolicy),
  "monitoring.coreos.com/v1/PodMonitor": (m) => ({ validate: () => checkPodMonitor(m) }),
  "monitoring.coreos.com/v1/PrometheusRule": (m) => ({ validate: () => checkPrometheusRule(m) }),
  "cert-manager.io/v1/Issuer": (m) => ({ validate: () => checkIssuer(m) }),
  "cert-manager.io/v1/Certificate": (m) => ({ validate: () => checkCertificate(m) }),
};

/** No schema package for cert-manager here: the fields the mtls component uses, and nothing else. */
function checkIssuer(m: Manifest): void {
  const spec = m.spec as Record<string, unknown>;
  const kinds = Object.keys(spec ?? {});
  expect(kinds.length === 1 && ["selfSigned", "ca"].includes(kinds[0] ?? ""), m.metadata.name).toBe(true);
  if ("ca" in spec) expect(unknownKeys(spec.ca as object, new Set(["secretName"]))).toEqual([]);
}

function checkCertificate(m: Manifest): void {
  const spec = m.spec as { secretName?: string; issuerRef?: { name?: string; kind?: string } };
  const keys = [
    "secretName",
    "issuerRef",
    "isCA",
    "commonName",
    "dnsNames",
    "usages",
    "duration",
    "renewBefore",
    "privateKey",
  ];
  expect(unknownKeys(spec, new Set(keys)), m.metadata.name).toEqual([]);
  expect(spec.secretName, m.metadata.name).toBeTruthy();
  expect(spec.issuerRef?.kind).toBe("Issuer");
}
function unknownKeys(value: object | undefined, allowedKeys: Set<string>): string[] {
  return Object.keys(value ?? {}).filter((k) => !allowedKeys.has(k));
}

function checkPodMonitor(m: Manifest): void {
  const spec = m.spec as {
    selector?: { matchLabels?: Record<string, string> };
    podMetricsEndpoints?: unknown[];
  };
  expect(unknownKeys(spec, new Set(["selector", "podMetricsEndpoints"]))).toEqual([]);
  expect(spec.selector?.matchLabels).toBeDefined();
  expect(spec.podMetricsEndpoints?.length).toBeGreaterThan(0);
  for (const endpoint of spec.podMetricsEndpoints ?? []) {
    expect(unknownKeys(endpoint as object, new Set(["port", "path", "interval", "relabelings"]))).toEqual([]);
    expect(endpoint).toMatchObject({ port: "metrics", path: "/metrics" });
  }
}

/**
 * The fields the monitoring component's rules use; promtool checks the
 * expressions themselves (test/monitoring). Every alert is labelled with a
 * severity and explains itself.
 */
function checkPrometheusRule(m: Manifest): void {
  const spec = m.spec as { groups?: { name?: string; rules?: Record<string, unknown>[] }[] };
  expect(unknownKeys(spec, new Set(["groups"]))).toEqual([]);
  expect(spec.groups?.length).toBeGreaterThan(0);
  for (const group of spec.groups ?? []) {
    expect(unknownKeys(group, new Set(["name", "interval", "rules"])), group.name).toEqual([]);
    for (const rule of group.rules ?? []) {
      const name = String(rule.alert ?? rule.record);
      expect(
        unknownKeys(rule, new Set(["alert", "record", "expr", "for", "labels", "annotations"])),
        name,
      ).toEqual([]);
      expect(typeof rule.expr, name).toBe("string");
      if (rule.alert === undefined) continue;
      const { labels, annotations } = rule as {
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
      };
      expect(["critical", "warning", "info"], `${name} severity`).toContain(labels?.severity);
      expect(annotations?.summary, `${name} summary`).toBeTruthy();
      expect(annotations?.description, `${name} description`).toBeTruthy();
    }
  }
}

/** Hardening of every workload, mesh or not. */
function checkHardened(d: Workload): void {
  const name = d.metadata?.name;
  const spec = podSpec(d);
  expect(unknownKeys(d.spec, WORKLOAD_SPEC_KEYS[d.kind] ?? new Set()), `${name} spec`).toEqual([]);
  expect(unknownKeys(spec, POD_SPEC_KEYS), `${name} pod spec`).toEqual([]);
  expect(unknownKeys(spec.securityContext, POD_SECURITY_KEYS), `${name} pod securityContext`).toEqual([]);
  expect(spec.automountServiceAccountToken, `${name} automountServiceAccountToken`).toBe(false);
  expect(spec.securityContext?.seccompProfile?.type, `${name} seccomp`).toBe("RuntimeDefault");
  expect(spec.securityContext?.runAsUser, `${name} runAsUser`).toBeGreaterThan(0);
  // A StatefulSet's claim templates are volumes of its pods too.
  const claims = d.kind === "StatefulSet" ? (d.spec?.volumeClaimTemplates ?? []) : [];
  const mounted = new Set(
    [...(spec.volumes ?? []), ...claims.map((c) => c.metadata ?? {})].map((v) => v.name),
  );
  for (const c of spec.containers) {
    const where = `${name}/${c.name}`;
    expect(unknownKeys(c, CONTAINER_KEYS), `${where} container`).toEqual([]);
    expect(unknownKeys(c.securityContext, CONTAINER_SECURITY_KEYS), `${where} securityContext`).toEqual([]);
    expect(spec.securityContext?.runAsNonRoot, `${where} runAsNonRoot`).toBe(true);
    expect(c.securityContext, `${where} securityContext`).toMatchObject({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.securityContext?.capabilities?.add, `${where} capabilities.add`).toBeUndefined();
    for (const kind of ["requests", "limits"] as const) {
      expect(c.resources?.[kind]?.cpu, `${where} ${kind}.cpu`).toBeDefined();
      expect(c.resources?.[kind]?.memory, `${where} ${kind}.memory`).toBeDefined();
    }
    for (const probe of [c.readinessProbe, c.livenessProbe]) expect(probe, `${where} probes`).toBeDefined();
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      expect(unknownKeys(probe, PROBE_KEYS), `${where} probe`).toEqual([]);
    }
    for (const mount of c.volumeMounts ?? [])
      expect(mounted.has(mount.name), `${where} mounts ${mount.name}`).toBe(true);
    expect(
      c.volumeMounts?.some((m) => m.mountPath === "/tmp"),
      `${where} writable /tmp`,
    ).toBe(true);
  }
}

/** A gRPC probe of `service`, on the gRPC port or, where PRESCIENT_HEALTH_ADDR names one (mTLS), the plaintext health port. */
export function grpcProbe(probe: IProbe | undefined, service: string, port = 50051): void {
  expect(probe?.grpc).toEqual({ port, service });
}

/** What a mesh service's container must look like. */
function checkMeshService(d: Workload): void {
  const name = d.metadata?.name ?? "";
  const mesh = MESH[name];
  expect(mesh, `unknown mesh service ${name}`).toBeDefined();
  if (mesh === undefined) return;
  const c = mainContainer(d);
  expect(c.image).toMatch(/(^|\/)prescient(-gpu)?(:[\w.-]+)?$/);
  expect(c.command).toEqual([
    "node",
    "--enable-source-maps",
    "--max-semi-space-size=32",
    "packages/cli/dist/main.js",
    "serve",
    name,
  ]);
  const probePort = Number(envOf(c).PRESCIENT_HEALTH_ADDR?.split(":")[1] ?? 50051);
  grpcProbe(c.readinessProbe, mesh.health, probePort);
  // Liveness asks a name that stays SERVING while Redis is down: an outage makes pods unready, not restart.
  grpcProbe(c.livenessProbe, "liveness", probePort);
  expect(c.ports).toEqual(
    expect.arrayContaining([
      { name: "grpc", containerPort: 50051 },
      { name: "metrics", containerPort: 9464 },
    ]),
  );
  const env = envOf(c);
  expect(env).toMatchObject({
    PRESCIENT_ADDR: "0.0.0.0:50051",
    PRESCIENT_METRICS_PORT: "9464",
    PRESCIENT_METRICS_HOST: "0.0.0.0",
    OTEL_SERVICE_NAME: name,
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector:4317",
    OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
    ...mesh.peers,
  });
  // Exactly the peers of the diagram, no more.
  // The analyzer's advertised address is its own (its pod IP), told to the other replicas through Redis.
  const own = new Set(["PRESCIENT_ADDR", "PRESCIENT_HEALTH_ADDR", "PRESCIENT_ANALYZER_ADVERTISE_ADDR"]);
  const peers = Object.keys(env).filter((k) => k.endsWith("_ADDR") && !own.has(k));
  expect(peers.sort()).toEqual(Object.keys(mesh.peers).sort());
  // The in-cluster Redis, or (components/external-redis) a URL from a Secret; nothing for the stateless.
  const redisUrl = envVar(c, "REDIS_URL");
  if (!mesh.redis) expect(redisUrl, `${name} REDIS_URL`).toBeUndefined();
  else if (redisUrl?.valueFrom === undefined)
    expect(redisUrl?.value, `${name} REDIS_URL`).toBe("redis://redis:6379");
  else {
    expect(redisUrl.value, `${name} REDIS_URL`).toBeUndefined();
    expect(redisUrl.valueFrom.secretKeyRef?.name, `${name} REDIS_URL Secret`).toBeTruthy();
    expect(redisUrl.valueFrom.secretKeyRef?.key, `${name} REDIS_URL key`).toBeTruthy();
  }
}

/** Every name one object uses for another resolves within the build. */
function checkReferences(ms: Manifest[]): void {
  const deployments = of<IDeployment>(ms, "Deployment");
  const pods = workloads(ms);
  const services = of<IService>(ms, "Service");
  const configMaps = new Set(of<IConfigMap>(ms, "ConfigMap").map((c) => c.metadata?.name));
  const accounts = of<IServiceAccount>(ms, "ServiceAccount");
  for (const s of services) {
    const target = pods.find((d) => selects(s.spec?.selector, d.spec?.template.metadata?.labels));
    expect(target, `Service ${s.metadata?.name} selects a workload`).toBeDefined();
    const ports = new Set(
      target === undefined
        ? []
        : podSpec(target)
            .containers.flatMap((c) => c.ports ?? [])
            .map((p) => p.name),
    );
    for (const p of s.spec?.ports ?? [])
      expect(ports.has(String(p.targetPort)), `${s.metadata?.name}:${p.name}`).toBe(true);
  }
  for (const set of of<IStatefulSet>(ms, "StatefulSet")) {
    // The governing Service: headless, and selecting this StatefulSet's pods.
    const governing = named(services, set.spec?.serviceName ?? "");
    expect(governing.spec?.clusterIP, `${set.metadata?.name} serviceName`).toBe("None");
    expect(selects(governing.spec?.selector, set.spec?.template.metadata?.labels)).toBe(true);
  }
  for (const d of pods) {
    const spec = podSpec(d);
    const account = accounts.find((a) => a.metadata?.name === spec.serviceAccountName);
    expect(account?.automountServiceAccountToken, `${d.metadata?.name} ServiceAccount`).toBe(false);
    for (const v of spec.volumes ?? []) if (v.configMap) expect(configMaps.has(v.configMap.name)).toBe(true);
    for (const c of spec.containers) {
      for (const from of c.envFrom ?? [])
        expect(configMaps.has(from.configMapRef?.name), `${d.metadata?.name} envFrom`).toBe(true);
      // host:port peers, redis://host:port and http://host:port all name a Service port here.
      for (const value of Object.values(envOf(c))) {
        const m = /^(?:[a-z]+:\/\/)?([a-z][a-z0-9-]*):(\d+)$/.exec(value ?? "");
        if (m === null || m[1] === undefined) continue;
        const service = services.find((s) => s.metadata?.name === m[1]);
        expect(
          service?.spec?.ports?.map((p) => p.port),
          `${d.metadata?.name} -> ${value}`,
        ).toContain(Number(m[2]));
      }
    }
  }
  for (const hpa of of<IHorizontalPodAutoscaler>(ms, "HorizontalPodAutoscaler")) {
    const target = named(deployments, hpa.spec?.scaleTargetRef.name ?? "");
    // A fixed replica count would fight the autoscaler on every apply.
    expect(target.spec?.replicas, `${target.metadata?.name} replicas under an HPA`).toBeUndefined();
  }
  for (const pdb of of<IPodDisruptionBudget>(ms, "PodDisruptionBudget")) {
    const selector = pdb.spec?.selector?.matchLabels;
    expect(deployments.some((d) => selects(selector, d.spec?.template.metadata?.labels))).toBe(true);
  }
}

export function checkBuild(ms: Manifest[]): void {
  for (const m of ms) {
    const model = MODELS[`${m.apiVersion}/${m.kind}`];
    expect(model, `no validator for ${m.apiVersion} ${m.kind}`).toBeDefined();
    model?.(m).validate();
  }
  for (const d of workloads(ms)) {
    checkHardened(d);
    if (isMesh(d)) checkMeshService(d);
  }
  expect(
    of<IDeployment>(ms, "Deployment")
      .filter(isMesh)
      .map((d) => d.metadata?.name)
      .sort(),
  ).toEqual([...MESH_NAMES].sort());
  checkReferences(ms);
}
