import { credentials } from "@grpc/grpc-js";
import { commonV1, executorV1 } from "@prescient/contracts";
import { callUnary } from "@prescient/kit";
import { systemTool } from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MeshUp, startMeshUp } from "./mesh-up.js";
import { isAlert, ruleGroups } from "./monitoring-files.js";
import { type PrometheusServer, prometheusBinary, startPrometheus, waitUntil } from "./prometheus-server.js";

/**
 * End to end: a real Prometheus scrapes `prescient up` and evaluates the
 * shipped rules; the queue-depth alert fires once the executor queue holds
 * more than 100 tasks, and resolves once it drains. The queue is paused
 * (the Pause RPC: workers claim nothing) so the tasks stay queued.
 *
 * The shipped `for: 10m` would make this a ten-minute test, so this one
 * alert is loaded with `for: 2s`; its expression is the shipped one, and
 * every other rule is loaded as shipped (and must evaluate without error).
 */
const prometheusTool = systemTool(prometheusBinary, "apt-get install prometheus");
const alert = "PrescientQueueDepthHigh";
let mesh: MeshUp;
let prometheus: PrometheusServer;
let executor: executorV1.ExecutorServiceClient;

const firing = async (): Promise<Record<string, string>[]> =>
  (await prometheus.query(`ALERTS{alertname="${alert}", alertstate="firing"}`)).map((s) => s.metric);

function tasks(n: number): executorV1.TaskSpec[] {
  // dashboard_data: an external type the reference handler answers at once, so the drain is quick.
  return Array.from({ length: n }, (_, i) => ({
    key: { tenant: "acme", taskType: "dashboard_data", entityId: `user-${i}` },
    priority: 0,
    reason: commonV1.TaskReason.TASK_REASON_MANUAL,
    features: {},
  }));
}

describe.runIf(prometheusTool.runTests)(
  "a real Prometheus with the shipped rules, scraping prescient up",
  () => {
    beforeAll(async () => {
      mesh = await startMeshUp();
      const groups = ruleGroups().map((g) => ({
        ...g,
        rules: g.rules.map((r) => (isAlert(r) && r.alert === alert ? { ...r, for: "2s" } : r)),
      }));
      prometheus = await startPrometheus({
        target: mesh.metricsTarget,
        // What the PodMonitor's scrape gives every series in a cluster.
        labels: { namespace: "prescient", service: "up" },
        groups,
      });
      executor = new executorV1.ExecutorServiceClient(mesh.addr, credentials.createInsecure());
    }, 120_000);

    afterAll(async () => {
      executor?.close();
      await prometheus?.stop();
      await mesh?.stop();
    });

    it("evaluates every rule without error on the mesh's metrics, and the queue alert is quiet", async () => {
      await waitUntil(
        async () => (await prometheus.query("prescient_executor_queue_depth")).length > 0,
        30_000,
        "a scrape of the executor's queue depth",
      );
      await waitUntil(
        async () => (await prometheus.rules()).every((r) => Date.parse(r.lastEvaluation) > 0),
        30_000,
        "every rule evaluated once",
      );
      const rules = await prometheus.rules();
      expect(rules.map((r) => r.name).sort()).toEqual(
        ruleGroups()
          .flatMap((g) => g.rules)
          .map((r) => ("alert" in r ? r.alert : r.record))
          .sort(),
      );
      for (const r of rules) expect(r.health, `${r.name}: ${r.lastError ?? ""}`).toBe("ok");
      expect(await firing()).toEqual([]);
      // PrescientNoReadyModel's input, as Prometheus sees it: every example model `up` loads is ready.
      const ready = await prometheus.query("max by (namespace, model) (prescient_inference_model_ready)");
      expect(ready.map((s) => s.metric.model).sort()).toEqual([
        "ctr_prediction",
        "roas_prediction",
        "variant_scoring",
      ]);
      for (const s of ready) expect(s.value[1], s.metric.model).toBe("1");
    });

    it("fires PrescientQueueDepthHigh while over 100 tasks wait, and resolves once they drain", async () => {
      await callUnary(executor.pause.bind(executor), {});
      const queued = await callUnary(executor.enqueueMany.bind(executor), { tasks: tasks(150) });
      expect(queued.results.filter((r) => !r.deduplicated)).toHaveLength(150);

      await waitUntil(async () => (await firing()).length > 0, 30_000, `${alert} firing`);
      const [labels] = await firing();
      expect(labels).toMatchObject({ alertname: alert, namespace: "prescient", severity: "warning" });
      const [depth] = await prometheus.query(
        "sum by (namespace) (max by (namespace, priority) (prescient_executor_queue_depth))",
      );
      expect(Number(depth?.value[1])).toBeGreaterThanOrEqual(150);

      await callUnary(executor.resume.bind(executor), {});
      await waitUntil(async () => (await firing()).length === 0, 30_000, `${alert} resolved`);
    }, 90_000);
  },
);
