import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { Manifest } from "./kustomize.js";

/** A Deployment or StatefulSet: what runs pods in these manifests. */
export type Workload = IDeployment | IStatefulSet;

/** Typed views of rendered manifests, for the assertions. */
export const of = <T>(ms: Manifest[], kind: string): T[] =>
  ms.filter((m) => m.kind === kind) as unknown as T[];
/** Every Deployment and StatefulSet. */
export const workloads = (ms: Manifest[]): Workload[] => [
  ...of<IDeployment>(ms, "Deployment"),
  ...of<IStatefulSet>(ms, "StatefulSet"),
];
export const named = <T extends { metadata?: { name?: string } }>(items: T[], name: string): T => {
  const found = items.find((i) => i.metadata?.name === name);
  if (found === undefined) throw new Error(`no object named ${name}`);
  return found;
};
export const podSpec = (d: Workload) => {
  const spec = d.spec?.template.spec;
  if (spec === undefined) throw new Error(`${d.metadata?.name}: no pod spec`);
  return spec;
};
export const mainContainer = (d: Workload): IContainer => {
  const container = podSpec(d).containers[0];
  if (container === undefined) throw new Error(`${d.metadata?.name}: no container`);
  return container;
};
export const envOf = (c: IContainer): Record<string, string | undefined> =>
  Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
/** A container's env entry by name, value or valueFrom. */
export const envVar = (c: IContainer, name: string): IEnvVar | undefined =>
  c.env?.find((e) => e.name === name);
export const selects = (
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
) => selector !== undefined && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
export const isMesh = (d: Workload) => d.metadata?.labels?.["app.kubernetes.io/component"] === "mesh-service";
