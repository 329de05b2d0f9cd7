import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";

/** One rendered Kubernetes object, as plain data. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** `kubectl kustomize <dir>`, parsed. Throws on any YAML error or object without apiVersion, kind or name. */
export function kustomize(dir: string): Manifest[] {
  const out = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", maxBuffer: 16 << 20 });
  return parseAllDocuments(out).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${dir} document ${i}: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (!isManifest(value)) throw new Error(`${dir} document ${i} is not a Kubernetes object`);
    return value;
  });
}

/** Base plus the given components, built through a throw-away kustomization. */
export function kustomizeWithComponents(base: string, components: string[]): Manifest[] {
  const dir = mkdtempSync(join(tmpdir(), "prescient-kustomize-"));
  try {
    const lines = [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources:",
      `  - ${relative(dir, base)}`,
      "components:",
      ...components.map((c) => `  - ${relative(dir, c)}`),
    ];
    writeFileSync(join(dir, "kustomization.yaml"), `${lines.join("\n")}\n`);
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function isManifest(value: unknown): value is Manifest {
  if (typeof value !== "object" || value === null) return false;
  const { apiVersion, kind, metadata } = value as Record<string, unknown>;
  return (
    typeof apiVersion === "string" &&
    typeof kind === "string" &&
    typeof metadata === "object" &&
    metadata !== null &&
    typeof (metadata as Record<string, unknown>).name === "string"
  );
}
