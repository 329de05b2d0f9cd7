import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { Manifest } from "./kustomize.js";

/** Typed views of rendered manifests, for the assertions. */
export const of = <T>(ms: Manifest[], kind: string): T[] =>
  ms.filter((m) => m.kind === kind) as unknown as T[];
export const named = <T extends { metadata?: { name?: string } }>(items: T[], name: string): T => {
  const found = items.find((i) => i.metadata?.name === name);
  if (found === undefined) throw new Error(`no object named ${name}`);
  return found;
};
export const podSpec = (d: IDeployment) => {
  const spec = d.spec?.template.spec;
  if (spec === undefined) throw new Error(`${d.metadata?.name}: no pod spec`);
  return spec;
};
export const mainContainer = (d: IDeployment): IContainer => {
  const container = podSpec(d).containers[0];
  if (container === undefined) throw new Error(`${d.metadata?.name}: no container`);
  return container;
};
export const envOf = (c: IContainer): Record<string, string | undefined> =>
  Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
export const selects = (
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
) => selector !== undefined && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
export const isMesh = (d: IDeployment) =>
  d.metadata?.labels?.["app.kubernetes.io/component"] === "mesh-service";
