import { fileURLToPath } from "node:url";
import { systemTool } from "@prescient/kit/testing";
import { Deployment, type IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IService } from "kubernetes-models/v1/Service";
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkBuild, grpcProbe, MESH, MESH_NAMES } from "./checks.js";
import { kustomize, kustomizeWithComponents, type Manifest } from "./kustomize.js";
import { allowed, type Endpoint } from "./network-reach.js";
import { envOf, envVar, isMesh, mainContainer, named, of, podSpec, selects, workloads } from "./objects.js";

/**
 * Renders every kustomization in deploy/ with `kubectl kustomize` (offline)
 * and checks each build (checks.ts), then what each overlay and component is
 * for, and the network policy graph against the mesh diagram.
 */
const deploy = fileURLToPath(new URL("../../deploy/", import.meta.url));
/** kubectl with its built-in kustomize. */
const kubectl = systemTool("kubectl", "install kubectl, the Kubernetes CLI", ["version", "--client"]);

describe.runIf(kubectl.runTests)("deploy/ manifests", () => {
  const builds = new Map<string, Manifest[]>();
  const build = (name: string): Manifest[] => {
    const ms = builds.get(name);
    if (ms === undefined) throw new Error(`no build ${name}`);
    return ms;
  };
  const components = [
    "gpu",
    "network-policies",
    "monitoring",
    "mtls",
    "auth",
    "redis-persistent",
    "external-redis",
    "tracing-backend",
  ];

  beforeAll(() => {
    builds.set("base", kustomize(`${deploy}base`));
    builds.set("overlays/dev", kustomize(`${deploy}overlays/dev`));
    builds.set("overlays/prod", kustomize(`${deploy}overlays/prod`));
    for (const c of components) {
      builds.set(`base + ${c}`, kustomizeWithComponents(`${deploy}base`, [`${deploy}components/${c}`]));
    }
  });

  it("validates a bad object, so the schema check has teeth", () => {
    const bad = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: { replicas: "two" },
    };
    expect(() => new Deployment(bad as unknown as IDeployment).validate()).toThrow();
  });

  it.each(["base", "overlays/dev", "overlays/prod", ...components.map((c) => `base + ${c}`)])(
    "%s: every object is valid, hardened and consistent",
    (name) => {
      checkBuild(build(name));
    },
  );

  it("base: autoscales executor and cache, waits for the predictor's models, samples traces", () => {
    const ms = build("base");
    expect(
      of<IHorizontalPodAutoscaler>(ms, "HorizontalPodAutoscaler")
        .map((h) => h.spec?.scaleTargetRef.name)
        .sort(),
    ).toEqual(["cache", "executor"]);
    const predictor = mainContainer(named(of<IDeployment>(ms, "Deployment"), "predictor"));
    grpcProbe(predictor.startupProbe, "inference.GRPCInferenceService");
    const { periodSeconds = 10, failureThreshold = 3 } = predictor.startupProbe ?? {};
    expect(periodSeconds * failureThreshold).toBeGreaterThanOrEqual(120);
    expect(predictor.resources?.limits?.["nvidia.com/gpu"]).toBeUndefined();
    const tracing = of<IConfigMap>(ms, "ConfigMap").find((c) => c.metadata?.name?.startsWith("tracing-"));
    expect(tracing?.data?.OTEL_TRACES_SAMPLER).toBe("parentbased_traceidratio");
    for (const kind of ["Redis", "otel-collector", "jaeger"]) {
      expect(of<IDeployment>(ms, "Deployment").some((d) => d.metadata?.name === kind.toLowerCase())).toBe(
        true,
      );
    }
    const jaeger = named(of<IService>(ms, "Service"), "jaeger");
    expect(jaeger.spec?.ports?.map((p) => p.port)).toContain(16686);
  });

  it("base: states the bounds on Redis state, and the cache's budget sits below Redis's maxmemory", () => {
    for (const overlay of [
      "base",
      "overlays/dev",
      "overlays/prod",
      "base + redis-persistent",
      "base + external-redis",
    ]) {
      const ms = build(overlay);
      const deployments = of<IDeployment>(ms, "Deployment");
      const executor = envOf(mainContainer(named(deployments, "executor")));
      for (const v of [
        "PRESCIENT_QUEUE_CAPACITY",
        "PRESCIENT_QUEUE_DEAD_LETTER_CAPACITY",
        "PRESCIENT_QUEUE_DEAD_LETTER_RETENTION_MS",
      ])
        expect(Number(executor[v]), `${overlay}: executor ${v}`).toBeGreaterThan(0);
      const cache = envOf(mainContainer(named(deployments, "cache")));
      expect(Number(cache.PRESCIENT_CACHE_REDIS_MAX_ENTRIES)).toBeGreaterThan(0);
      const budget = Number(cache.PRESCIENT_CACHE_REDIS_MAX_BYTES);
      const redis = workloads(ms).find((d) => d.metadata?.name === "redis");
      // components/external-redis points at a Redis outside; then its operator sizes maxmemory.
      expect(redis === undefined, `${overlay}: no in-cluster Redis`).toBe(
        overlay === "base + external-redis",
      );
      if (redis === undefined) continue;
      const args = mainContainer(redis).args ?? [];
      const maxmemory = args[args.indexOf("--maxmemory") + 1] ?? "";
      const mb = /^(\d+)mb$/.exec(maxmemory);
      expect(mb, `${overlay}: redis --maxmemory ${maxmemory}`).not.toBeNull();
      expect(budget).toBeGreaterThan(0);
      expect(budget).toBeLessThan(Number(mb?.[1]) * 1024 * 1024);
      expect(args[args.indexOf("--maxmemory-policy") + 1]).toMatch(/^volatile-/);
    }
  });

  it("overlays/dev: one replica each, no autoscaler, no GPU, every trace kept", () => {
    const ms = build("overlays/dev");
    expect(ms.every((m) => m.kind === "Namespace" || m.metadata.namespace === "prescient-dev")).toBe(true);
    expect(of<IHorizontalPodAutoscaler>(ms, "HorizontalPodAutoscaler")).toEqual([]);
    for (const d of of<IDeployment>(ms, "Deployment")) {
      expect(d.spec?.replicas, d.metadata?.name).toBe(1);
      expect(podSpec(d).tolerations).toBeUndefined();
      if (isMesh(d)) expect(mainContainer(d).image).toBe("prescient:dev");
    }
    const tracing = of<IConfigMap>(ms, "ConfigMap").find((c) => c.metadata?.name?.startsWith("tracing-"));
    expect(tracing?.data?.OTEL_TRACES_SAMPLER).toBe("parentbased_always_on");
    expect(of<INamespace>(ms, "Namespace")[0]?.metadata?.labels?.["pod-security.kubernetes.io/enforce"]).toBe(
      "restricted",
    );
  });

  it("overlays/prod: GPU predictor, more replicas, budgets, spread, policies, monitoring", () => {
    const ms = build("overlays/prod");
    const deployments = of<IDeployment>(ms, "Deployment");
    expect(ms.every((m) => m.kind === "Namespace" || m.metadata.namespace === "prescient")).toBe(true);

    const predictor = named(deployments, "predictor");
    const gpu = mainContainer(predictor);
    expect(gpu.resources?.limits?.["nvidia.com/gpu"]).toBe(1);
    expect(gpu.image).toMatch(/\/prescient-gpu:[\w.-]+$/);
    expect(envOf(gpu).PRESCIENT_PREDICTOR_EXECUTION_PROVIDERS).toBe("cuda,cpu");
    expect(podSpec(predictor).tolerations).toContainEqual({
      key: "nvidia.com/gpu",
      operator: "Exists",
      effect: "NoSchedule",
    });
    expect(Object.keys(podSpec(predictor).nodeSelector ?? {})).toHaveLength(1);

    for (const d of deployments.filter(isMesh)) {
      const name = d.metadata?.name ?? "";
      expect(mainContainer(d).image, name).toMatch(/^[\w.-]+\/prescient(-gpu)?:[\w.-]+$/);
      const spread = podSpec(d).topologySpreadConstraints ?? [];
      expect(spread.map((t) => t.topologyKey).sort(), name).toEqual([
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
      ]);
      expect(d.spec?.replicas ?? 2, name).toBeGreaterThanOrEqual(2);
      const pdb = of<IPodDisruptionBudget>(ms, "PodDisruptionBudget").find((p) =>
        selects(p.spec?.selector?.matchLabels, d.spec?.template.metadata?.labels),
      );
      expect(pdb?.spec?.maxUnavailable, name).toBe(1);
    }
    for (const hpa of of<IHorizontalPodAutoscaler>(ms, "HorizontalPodAutoscaler")) {
      expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(3);
    }
    expect(of<INetworkPolicy>(ms, "NetworkPolicy").map((p) => p.metadata?.name)).toContain("default-deny");
    expect(ms.filter((m) => m.kind === "PodMonitor")).toHaveLength(1);

    // Several analyzers answer as one only in the ring: each advertises its pod IP, and
    // (under mTLS) checks the Service's name on the others' certificates.
    const analyzer = mainContainer(named(deployments, "analyzer"));
    expect(named(deployments, "analyzer").spec?.replicas).toBeGreaterThanOrEqual(2);
    expect(envVar(analyzer, "POD_IP")?.valueFrom?.fieldRef?.fieldPath).toBe("status.podIP");
    expect(envOf(analyzer).PRESCIENT_ANALYZER_ADVERTISE_ADDR).toBe("$(POD_IP):50051");
    const names = (analyzer.env ?? []).map((e) => e.name);
    expect(names.indexOf("POD_IP"), "POD_IP is defined before it is expanded").toBeLessThan(
      names.indexOf("PRESCIENT_ANALYZER_ADVERTISE_ADDR"),
    );
    expect(envOf(analyzer).PRESCIENT_ANALYZER_RING_TLS_NAME).toBe("analyzer");
    expect(envOf(analyzer).REDIS_URL ?? envVar(analyzer, "REDIS_URL")?.valueFrom).toBeDefined();
  });

  it("gpu component alone: only the predictor changes", () => {
    const ms = build("base + gpu");
    for (const d of of<IDeployment>(ms, "Deployment")) {
      const limits = mainContainer(d).resources?.limits ?? {};
      expect("nvidia.com/gpu" in limits, d.metadata?.name).toBe(d.metadata?.name === "predictor");
    }
  });

  it("mtls component: each mesh service mounts its own certificate, requires its CA's clients, probes in plaintext", () => {
    const ms = build("base + mtls");
    const certificates = ms.filter((m) => m.kind === "Certificate");
    const issuers = new Set(ms.filter((m) => m.kind === "Issuer").map((m) => m.metadata.name));
    for (const c of certificates) {
      const ref = (c.spec as { issuerRef: { name: string } }).issuerRef.name;
      expect(issuers.has(ref), `${c.metadata.name} issuer`).toBe(true);
    }
    for (const d of of<IDeployment>(ms, "Deployment").filter(isMesh)) {
      const name = d.metadata?.name ?? "";
      const c = mainContainer(d);
      const env = envOf(c);
      const secret = podSpec(d).volumes?.find((v) => v.name === "tls")?.secret?.secretName;
      const cert = certificates.find((x) => (x.spec as { secretName: string }).secretName === secret);
      expect((cert?.spec as { dnsNames?: string[] } | undefined)?.dnsNames, name).toContain(name);
      const mount = c.volumeMounts?.find((v) => v.name === "tls");
      expect(mount?.readOnly, name).toBe(true);
      for (const [variable, file] of [
        ["PRESCIENT_TLS_CERT", "tls.crt"],
        ["PRESCIENT_TLS_KEY", "tls.key"],
        ["PRESCIENT_TLS_CLIENT_CA", "ca.crt"],
        ["PRESCIENT_TLS_CA", "ca.crt"],
      ] as const)
        expect(env[variable], `${name} ${variable}`).toBe(`${mount?.mountPath}/${file}`);
      const healthPort = Number(env.PRESCIENT_HEALTH_ADDR?.split(":")[1]);
      expect(
        c.ports?.map((p) => p.containerPort),
        name,
      ).toContain(healthPort);
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter((p) => p !== undefined))
        expect(probe.grpc?.port, `${name} probe`).toBe(healthPort);
    }
  });

  it.each(["base + auth", "overlays/prod"])(
    "%s: every mesh service reads hashed tokens and the peer token from the auth Secret",
    (name) => {
      for (const d of of<IDeployment>(build(name), "Deployment").filter(isMesh)) {
        const who = d.metadata?.name ?? "";
        const c = mainContainer(d);
        const env = envOf(c);
        const volume = podSpec(d).volumes?.find((v) => v.secret?.secretName === "prescient-auth");
        expect(volume, who).toBeDefined();
        const mount = c.volumeMounts?.find((v) => v.name === volume?.name);
        expect(mount?.readOnly, who).toBe(true);
        expect(env.PRESCIENT_AUTH_TOKENS_FILE, who).toBe(`${mount?.mountPath}/tokens.jsonl`);
        expect(env.PRESCIENT_AUTH_PEER_TOKEN_FILE, who).toBe(`${mount?.mountPath}/peer-token`);
      }
    },
  );

  it("dev overlay: auth stays off", () => {
    for (const d of of<IDeployment>(build("overlays/dev"), "Deployment").filter(isMesh))
      expect(envOf(mainContainer(d)).PRESCIENT_AUTH_TOKENS_FILE, d.metadata?.name).toBeUndefined();
  });

  it("monitoring component: the PodMonitor selects every mesh service's metrics port", () => {
    const ms = build("base + monitoring");
    const monitor = ms.find((m) => m.kind === "PodMonitor");
    const spec = monitor?.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined;
    const selector = spec?.selector?.matchLabels;
    const scraped = of<IDeployment>(ms, "Deployment").filter((d) =>
      selects(selector, d.spec?.template.metadata?.labels),
    );
    expect(scraped.map((d) => d.metadata?.name).sort()).toEqual([...MESH_NAMES].sort());
    // Picked up by the same Prometheus as the PodMonitor; test/monitoring tests the rules themselves.
    const rule = ms.find((m) => m.kind === "PrometheusRule");
    expect(rule?.metadata.labels?.release).toBe(monitor?.metadata.labels?.release);
    // The Grafana sidecar loads ConfigMaps by this label, under a name that does not change with its content.
    const dashboard = named(of<IConfigMap>(ms, "ConfigMap"), "prescient-dashboard");
    expect(dashboard.metadata?.labels?.grafana_dashboard).toBe("1");
    expect(JSON.parse(dashboard.data?.["prescient.json"] ?? "{}").uid).toBe("prescient-mesh");
  });

  /** The traces-backend ConfigMap the collector reads its exporter's settings from. */
  const tracesBackend = (ms: Manifest[]): Record<string, string> => {
    const collector = mainContainer(named(of<IDeployment>(ms, "Deployment"), "otel-collector"));
    const refs = (collector.envFrom ?? []).map((f) => f.configMapRef?.name);
    const maps = of<IConfigMap>(ms, "ConfigMap").filter((c) => refs.includes(c.metadata?.name));
    expect(maps.map((m) => m.metadata?.name)).toEqual([expect.stringMatching(/^traces-backend-/)]);
    return maps[0]?.data ?? {};
  };
  /** The collector's pipeline config, and the exporters its traces pipeline uses. */
  const collectorConfig = (ms: Manifest[]) => {
    const config = named(of<IConfigMap>(ms, "ConfigMap"), "otel-collector").data?.["config.yaml"] ?? "";
    const parsed = parse(config) as {
      exporters: Record<string, { endpoint?: string; tls?: { insecure?: unknown } }>;
      service: { pipelines: { traces: { exporters: string[] } } };
    };
    const exporters = parsed.service.pipelines.traces.exporters.map((e) => parsed.exporters[e]);
    return { config, exporters };
  };
  /** The collector's `${env:NAME}` expansion. */
  const envRef = (name: string) => `\${env:${name}}`;
  const redisWorkloads = (ms: Manifest[]) => workloads(ms).filter((w) => w.metadata?.name === "redis");
  const arg = (args: string[], flag: string) =>
    args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined;

  it.each(["base + redis-persistent", "overlays/prod"])(
    "%s: Redis is one StatefulSet on a persistent volume with AOF on, hardened as the base's",
    (name) => {
      const ms = build(name);
      const [redis, ...more] = redisWorkloads(ms);
      expect(more).toEqual([]);
      expect(redis?.kind).toBe("StatefulSet");
      const set = redis as IStatefulSet;
      expect(set.spec?.replicas).toBe(1);
      // The claim: the cluster's default StorageClass, a stated size, kept when the set goes.
      const claims = set.spec?.volumeClaimTemplates ?? [];
      expect(claims.map((c) => c.metadata?.name)).toEqual(["data"]);
      const claim = claims[0]?.spec;
      expect(claim?.accessModes).toEqual(["ReadWriteOnce"]);
      expect(claim?.storageClassName).toBeUndefined();
      expect(claim?.resources?.requests?.storage).toMatch(/^\d+Gi$/);
      expect(set.spec?.persistentVolumeClaimRetentionPolicy).toEqual({
        whenDeleted: "Retain",
        whenScaled: "Retain",
      });
      // /data is the claim, not an emptyDir.
      const c = mainContainer(set);
      expect(c.volumeMounts?.find((m) => m.mountPath === "/data")?.name).toBe("data");
      expect(podSpec(set).volumes?.some((v) => v.name === "data")).toBe(false);
      // AOF on, fsynced every second; persistence not switched off.
      const args = c.args ?? [];
      expect(arg(args, "--appendonly")).toBe("yes");
      expect(arg(args, "--appendfsync")).toBe("everysec");
      expect(arg(args, "--dir")).toBe("/data");
      expect(args).not.toContain("--save");
      // The base's memory bound and eviction policy, hardening, probes and port, and the same Service.
      const base = mainContainer(named(of<IDeployment>(build("base"), "Deployment"), "redis"));
      const baseArgs = base.args ?? [];
      for (const flag of ["--maxmemory", "--maxmemory-policy"])
        expect(arg(args, flag), flag).toBe(arg(baseArgs, flag));
      for (const field of ["image", "ports", "securityContext", "readinessProbe", "livenessProbe"] as const)
        expect(c[field], field).toEqual(base[field]);
      const { fsGroupChangePolicy, ...podSecurity } = podSpec(set).securityContext ?? {};
      expect(fsGroupChangePolicy).toBe("OnRootMismatch");
      const basePod = podSpec(named(of<IDeployment>(build("base"), "Deployment"), "redis"));
      expect(podSecurity).toEqual(basePod.securityContext);
      expect(podSpec(set).serviceAccountName).toBe(basePod.serviceAccountName);
      const service = named(of<IService>(ms, "Service"), "redis");
      expect(selects(service.spec?.selector, set.spec?.template.metadata?.labels)).toBe(true);
      expect(service.spec?.clusterIP).toBeUndefined();
      expect(service.spec?.ports?.map((p) => p.port)).toEqual([6379]);
      // Labelled like the base's objects, though a component's resources do not get the base's labels.
      expect(set.metadata?.labels).toMatchObject({ "app.kubernetes.io/part-of": "prescient" });
      for (const d of of<IDeployment>(ms, "Deployment").filter((x) => MESH[x.metadata?.name ?? ""]?.redis))
        expect(envOf(mainContainer(d)).REDIS_URL, d.metadata?.name).toBe("redis://redis:6379");
    },
  );

  it("overlays/dev: Redis stays the base's throwaway Deployment, traces stay in Jaeger all-in-one", () => {
    const ms = build("overlays/dev");
    expect(redisWorkloads(ms).map((w) => w.kind)).toEqual(["Deployment"]);
    expect(of<IStatefulSet>(ms, "StatefulSet")).toEqual([]);
    const redis = named(of<IDeployment>(ms, "Deployment"), "redis");
    expect(podSpec(redis).volumes?.find((v) => v.name === "data")?.emptyDir).toBeDefined();
    expect(named(of<IDeployment>(ms, "Deployment"), "jaeger")).toBeDefined();
    const { exporters } = collectorConfig(ms);
    expect(exporters.map((e) => e?.endpoint)).toEqual(["jaeger:4317"]);
  });

  it("external-redis component: no Redis in the cluster, REDIS_URL from a Secret in every service that uses it", () => {
    const ms = build("base + external-redis");
    expect(redisWorkloads(ms)).toEqual([]);
    expect(of<IService>(ms, "Service").map((s) => s.metadata?.name)).not.toContain("redis");
    expect(of<IServiceAccount>(ms, "ServiceAccount").map((s) => s.metadata?.name)).not.toContain("redis");
    for (const d of of<IDeployment>(ms, "Deployment").filter(isMesh)) {
      const name = d.metadata?.name ?? "";
      const url = envVar(mainContainer(d), "REDIS_URL");
      if (MESH[name]?.redis)
        expect(url, name).toEqual({
          name: "REDIS_URL",
          valueFrom: { secretKeyRef: { name: "prescient-redis", key: "url" } },
        });
      else expect(url, name).toBeUndefined();
    }
    expect(JSON.stringify(ms)).not.toMatch(/redis:\/\/redis:6379/);
  });

  it.each(["base + tracing-backend", "overlays/prod"])(
    "%s: no Jaeger all-in-one; the collector exports to the endpoint its ConfigMap names",
    (name) => {
      const ms = build(name);
      for (const kind of ["Deployment", "Service", "ServiceAccount"])
        expect(
          ms.filter((m) => m.kind === kind).map((m) => m.metadata.name),
          kind,
        ).not.toContain("jaeger");
      expect(JSON.stringify(workloads(ms).map((w) => podSpec(w).containers))).not.toMatch(/all-in-one/);
      const { config, exporters } = collectorConfig(ms);
      expect(exporters).toEqual([
        { endpoint: envRef("TRACES_ENDPOINT"), tls: { insecure: envRef("TRACES_TLS_INSECURE") } },
      ]);
      expect(config).not.toMatch(/jaeger:/);
      // Only the exporter changes: the receivers, processors and health check stay the base's.
      const pipeline = (text: string) => {
        const {
          exporters: _,
          service,
          ...rest
        } = parse(text) as Record<string, unknown> & {
          service: { pipelines: { traces: Record<string, unknown> } };
        };
        const { exporters: __, ...traces } = service.pipelines.traces;
        return { ...rest, service: { ...service, pipelines: { traces } } };
      };
      const base = named(of<IConfigMap>(build("base"), "ConfigMap"), "otel-collector").data?.["config.yaml"];
      expect(pipeline(config)).toEqual(pipeline(base ?? ""));
      // Every variable the config expands comes from the collector's environment.
      const collector = mainContainer(named(of<IDeployment>(ms, "Deployment"), "otel-collector"));
      const settings = tracesBackend(ms);
      const defined = new Set([...Object.keys(envOf(collector)), ...Object.keys(settings)]);
      for (const [, variable] of config.matchAll(/\$\{env:(\w+)\}/g))
        expect(defined.has(variable ?? ""), variable).toBe(true);
      expect(settings.TRACES_ENDPOINT).toMatch(/^[a-z0-9.-]+:\d+$/);
      expect(["true", "false"]).toContain(settings.TRACES_TLS_INSECURE);
      if (name === "overlays/prod") expect(settings.TRACES_TLS_INSECURE, "prod keeps TLS on").toBe("false");
    },
  );

  it("network policies allow exactly the edges of the mesh diagram", () => {
    const ms = build("overlays/prod");
    const namespace = "prescient";
    const policies = of<INetworkPolicy>(ms, "NetworkPolicy");
    // The evaluator understands matchLabels, numeric ports and no ipBlock; keep the policies to that.
    expect(JSON.stringify(policies)).not.toMatch(/matchExpressions|ipBlock|"port":"/);

    const pods = new Map<string, { endpoint: Endpoint; ports: number[] }>();
    for (const d of workloads(ms)) {
      const labels = d.spec?.template.metadata?.labels ?? {};
      const ports = podSpec(d)
        .containers.flatMap((c) => c.ports ?? [])
        .map((p) => p.containerPort);
      pods.set(d.metadata?.name ?? "", { endpoint: { namespace, labels }, ports });
    }
    const mesh = (to: string[]) => to.map((t) => `${t}:50051`);
    const expected: Record<string, string[]> = {
      cache: [...mesh(["executor", "analyzer"]), "redis:6379", "otel-collector:4317"],
      precomputer: [...mesh(["analyzer", "cache", "executor"]), "redis:6379", "otel-collector:4317"],
      executor: [...mesh(["predictor", "cache", "task-handler"]), "redis:6379", "otel-collector:4317"],
      analyzer: [...mesh(["predictor"]), "redis:6379", "otel-collector:4317"],
      predictor: ["otel-collector:4317"],
      "task-handler": ["otel-collector:4317"],
      redis: [],
      // Traces leave the namespace for the backend (below); no all-in-one Jaeger in prod.
      "otel-collector": [],
    };
    expect([...pods.keys()].sort()).toEqual(Object.keys(expected).sort());

    const dns: Endpoint = { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } };
    for (const [from, source] of pods) {
      const reached = [...pods].flatMap(([to, target]) =>
        target.ports
          .filter(
            (port) => to !== from && allowed(policies, namespace, source.endpoint, target.endpoint, port),
          )
          .map((port) => `${to}:${port}`),
      );
      expect(reached.sort(), `${from} may reach`).toEqual([...(expected[from] ?? [])].sort());
      // Between replicas of one service, only the analyzer's talk (its tenant ring).
      expect(
        source.ports.some((port) => allowed(policies, namespace, source.endpoint, source.endpoint, port)),
        `${from} replicas reach each other`,
      ).toBe(from === "analyzer");
      expect(allowed(policies, namespace, source.endpoint, dns, 53, "UDP"), `${from} DNS`).toBe(true);
    }

    // The collector, and nothing else, reaches the tracing backend that TRACES_ENDPOINT names.
    const endpoint = tracesBackend(ms).TRACES_ENDPOINT ?? "";
    const [, backendNamespace, backendPort] =
      /^[a-z0-9-]+\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:(\d+)$/.exec(endpoint) ?? [];
    expect(backendNamespace, `TRACES_ENDPOINT ${endpoint}`).toBeDefined();
    const tracing: Endpoint = { namespace: backendNamespace ?? "", labels: {} };
    for (const [from, source] of pods) {
      const to = allowed(policies, namespace, source.endpoint, tracing, Number(backendPort));
      expect(to, `${from} -> ${endpoint}`).toBe(from === "otel-collector");
    }
    const collector = pods.get("otel-collector")?.endpoint;
    if (collector === undefined) throw new Error("no otel-collector");
    expect(allowed(policies, namespace, collector, tracing, 443), "collector -> tracing:443").toBe(false);
    expect(allowed(policies, namespace, collector, { namespace: "ads", labels: {} }, 4317)).toBe(false);

    // From outside the namespace: backends reach the two entry points; Prometheus reaches metrics.
    const backend: Endpoint = { namespace: "ads", labels: {} };
    const prometheus: Endpoint = { namespace: "monitoring", labels: {} };
    for (const [to, target] of pods) {
      const entry = to === "cache" || to === "precomputer";
      expect(allowed(policies, namespace, backend, target.endpoint, 50051), `backend -> ${to}`).toBe(entry);
      expect(allowed(policies, namespace, prometheus, target.endpoint, 9464), `prometheus -> ${to}`).toBe(
        MESH_NAMES.includes(to),
      );
    }
  });
});
