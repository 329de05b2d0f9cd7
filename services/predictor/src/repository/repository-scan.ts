import type { Dirent } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

/**
 * Reads the on-disk layout of a model repository:
 * `<root>/<model>/config.{yaml,yml,json}` and `<root>/<model>/<version>/model.onnx`,
 * versions being positive integers as in Triton. A version directory without
 * model.onnx is not a version yet (a publisher may still be writing it).
 */
export interface ScannedModel {
  name: string;
  dir: string;
  /** Config text; empty when the model has no config file (all defaults). */
  configText: string;
  configFile: string | undefined;
  /** Version number → path of its model.onnx. */
  versions: Map<number, string>;
  /** Changes whenever the config or any version's file changes: the poller reloads on a change. */
  fingerprint: string;
  /** Per version, changes when its model.onnx changes. */
  versionFingerprints: Map<number, string>;
}

const configNames = ["config.yaml", "config.yml", "config.json"];
const modelNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/**
 * Longest model name: a model is a directory, and file names stop at 255
 * bytes on the file systems we run on, so a longer name can never be a model.
 */
export const maxModelNameLength = 255;

/** Model directory names in the repository (hidden and odd names skipped). */
export async function listModelDirs(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && modelNamePattern.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** Scans one model; undefined when its directory does not exist. */
export async function scanModel(root: string, name: string): Promise<ScannedModel | undefined> {
  if (name.length > maxModelNameLength || !modelNamePattern.test(name)) return undefined;
  const dir = join(root, name);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  let configText = "";
  let configFile: string | undefined;
  let configStamp = "none";
  for (const candidate of configNames) {
    if (!entries.some((e) => e.isFile() && e.name === candidate)) continue;
    configFile = join(dir, candidate);
    const s = await stat(configFile);
    configText = await readFile(configFile, "utf8");
    configStamp = `${candidate}:${s.mtimeMs}:${s.size}`;
    break;
  }
  const versions = new Map<number, string>();
  const versionFingerprints = new Map<number, string>();
  for (const e of entries) {
    if (!e.isDirectory() || !/^[0-9]{1,9}$/.test(e.name)) continue;
    const file = join(dir, e.name, "model.onnx");
    try {
      const s = await stat(file);
      if (!s.isFile()) continue;
      versions.set(Number(e.name), file);
      versionFingerprints.set(Number(e.name), `${s.mtimeMs}:${s.size}`);
    } catch {
      // No model.onnx yet: not a version.
    }
  }
  const fingerprint = [
    configStamp,
    ...[...versionFingerprints].sort(([a], [b]) => a - b).map(([v, f]) => `${v}=${f}`),
  ].join("|");
  return { name, dir, configText, configFile, versions, fingerprint, versionFingerprints };
}
