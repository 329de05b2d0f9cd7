import { errorMessage, InvalidArgumentError, NotFoundError } from "@prescient/core";
import type { Logger } from "@prescient/kit";
import {
  type ExecutionProviderName,
  type ModelConfig,
  parseModelConfig,
  selectVersions,
} from "./model-config.js";
import { loadModelVersion, type ModelVersion } from "./model-version.js";
import { listModelDirs, maxModelNameLength, type ScannedModel, scanModel } from "./repository-scan.js";

export type VersionState = "AVAILABLE" | "LOADING" | "READY" | "UNLOADING" | "FAILED";

export interface VersionStatus {
  model: string;
  version: number;
  state: VersionState;
  reason: string;
  provider: string;
}

export interface RepositoryOptions {
  /** Directory holding `<model>/<version>/model.onnx`. */
  root: string;
  /** Models loaded at start and picked up by polling; undefined means every model in the directory. */
  models: string[] | undefined;
  /**
   * Replaces every model's execution_providers, so one deployment setting
   * (the gpu component's PRESCIENT_PREDICTOR_EXECUTION_PROVIDERS) moves all
   * models to the GPU without editing their configs. Undefined keeps each config's list.
   */
  executionProviders?: ExecutionProviderName[] | undefined;
  /**
   * Replaces every model's intra_op_threads, so a deployment sizes ORT's
   * threads to the cores it was given (PRESCIENT_PREDICTOR_INTRA_OP_THREADS).
   * Undefined keeps each config's value.
   */
  intraOpThreads?: number | undefined;
  /** Replaces every config's run_in_worker (PRESCIENT_PREDICTOR_RUN_IN_WORKER). Undefined keeps each config's value. */
  runInWorker?: boolean | undefined;
  logger: Logger;
}

interface VersionSlot {
  state: VersionState;
  reason: string;
  loaded: ModelVersion | undefined;
  fingerprint: string;
}

interface ModelEntry {
  versions: Map<number, VersionSlot>;
  fingerprint: string;
  configText: string;
  /** Unloaded by request: polling leaves it alone until LoadModel. */
  pinnedOff: boolean;
  /** Operations on one model run one after another. */
  chain: Promise<unknown>;
  /** Operations queued or running: the entry is dropped only when none are left. */
  pending: number;
}

/**
 * The models being served and their versions' states. Loading reads a
 * model's config, picks versions by its policy, starts new or changed
 * versions, swaps them in, and drains and frees the versions no longer
 * wanted. `poll()` does the same for every model whose files changed.
 */
export class ModelRepository {
  readonly #options: RepositoryOptions;
  readonly #entries = new Map<string, ModelEntry>();
  #polling = false;

  constructor(options: RepositoryOptions) {
    this.#options = options;
  }

  get root(): string {
    return this.#options.root;
  }

  /**
   * The models this repository should serve now. Listing the directory, a
   * model directory without any version file yet (a publisher may still be
   * writing it) is left out until one appears.
   */
  async wantedModels(): Promise<string[]> {
    if (this.#options.models !== undefined) return this.#options.models;
    const names: string[] = [];
    for (const name of await listModelDirs(this.#options.root))
      if (hasVersions(await scanModel(this.#options.root, name))) names.push(name);
    return names;
  }

  /**
   * Loads (or reloads) a model; NOT_FOUND when it has no version files in the
   * repository, INVALID_ARGUMENT for a bad config or an over-long name.
   */
  async load(name: string): Promise<VersionStatus[]> {
    checkName(name);
    // Only real models get an entry: a made-up name leaves nothing behind, so
    // requests cannot grow the repository's state or slow ListModels.
    if (!this.#entries.has(name)) this.#checkFound(name, await scanModel(this.#options.root, name));
    const entry = this.#entry(name);
    entry.pinnedOff = false;
    return this.#serial(name, entry, async () => {
      const scanned = this.#checkFound(name, await scanModel(this.#options.root, name));
      await this.#apply(name, entry, scanned);
      return this.#statuses(name, entry);
    });
  }

  /** Stops serving a model; queued and running requests finish first. NOT_FOUND for a model never loaded. */
  unload(name: string): Promise<VersionStatus[]> {
    try {
      checkName(name);
    } catch (e) {
      return Promise.reject(e);
    }
    const entry = this.#entries.get(name);
    if (entry === undefined) return Promise.reject(new NotFoundError(`model ${quoted(name)} is not loaded`));
    entry.pinnedOff = true;
    return this.#serial(name, entry, async () => {
      await this.#retire(name, entry, [...entry.versions.keys()]);
      entry.fingerprint = "";
      return this.#statuses(name, entry);
    });
  }

  /** One pass of the poller: reloads changed models, loads new ones, unloads removed ones. */
  async poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const wanted = new Set(await this.wantedModels());
      for (const name of new Set([...wanted, ...this.#entries.keys()])) {
        const entry = this.#entries.get(name);
        const scanned = await scanModel(this.#options.root, name);
        if (!hasVersions(scanned) || !wanted.has(name)) {
          // Gone or no longer wanted: its versions are retired and its entry dropped, pinned or not.
          if (entry !== undefined) await this.#drop(name, entry);
          continue;
        }
        if (entry?.pinnedOff) continue;
        if (entry !== undefined && entry.fingerprint === scanned.fingerprint) continue;
        await this.load(name).catch((e: unknown) =>
          this.#options.logger.error(
            { model: name, err: errorMessage(e) },
            "reloading a changed model failed",
          ),
        );
      }
    } finally {
      this.#polling = false;
    }
  }

  /** The version to serve: the given one, or the highest ready one for "". */
  resolve(name: string, version: string): ModelVersion {
    const entry = this.#entries.get(name);
    const ready = entry === undefined ? [] : readyVersions(entry);
    if (ready.length === 0) {
      const known = [...this.#entries].filter(([, e]) => readyVersions(e).length > 0).map(([n]) => n);
      throw new NotFoundError(
        `model ${quoted(name)} is not ready; ready models: ${known.join(", ") || "none"}`,
      );
    }
    if (version === "") return ready[0]!;
    if (!/^[0-9]{1,9}$/.test(version))
      throw new InvalidArgumentError(
        `model version ${JSON.stringify(version.slice(0, 40))} is not a version number`,
      );
    const found = ready.find((v) => v.version === Number(version));
    if (found !== undefined) return found;
    const slot = entry?.versions.get(Number(version));
    const why =
      slot === undefined
        ? "not loaded"
        : `${slot.state.toLowerCase()}${slot.reason ? `: ${slot.reason}` : ""}`;
    throw new NotFoundError(
      `model ${name} version ${version} is ${why}; ready versions: ${ready.map((v) => v.version).join(", ")}`,
    );
  }

  isReady(name: string, version: string): boolean {
    try {
      this.resolve(name, version);
      return true;
    } catch {
      return false;
    }
  }

  /** Ready versions of a model, highest first. */
  readyVersions(name: string): ModelVersion[] {
    const entry = this.#entries.get(name);
    return entry === undefined ? [] : readyVersions(entry);
  }

  /** Every version on disk or in memory, with its state. */
  async list(readyOnly = false): Promise<VersionStatus[]> {
    const names = new Set([
      ...(await listModelDirs(this.#options.root).catch(() => [])),
      ...this.#entries.keys(),
    ]);
    const all: VersionStatus[] = [];
    for (const name of [...names].sort()) {
      const entry = this.#entries.get(name);
      const statuses = entry === undefined ? [] : this.#statuses(name, entry);
      const scanned = await scanModel(this.#options.root, name);
      for (const v of scanned?.versions.keys() ?? [])
        if (!statuses.some((s) => s.version === v))
          statuses.push({ model: name, version: v, state: "AVAILABLE", reason: "", provider: "" });
      all.push(...statuses.sort((a, b) => b.version - a.version));
    }
    return readyOnly ? all.filter((s) => s.state === "READY") : all;
  }

  /** Unloads everything, draining each version. */
  async close(): Promise<void> {
    await Promise.all([...this.#entries.keys()].map((name) => this.unload(name).catch(() => [])));
  }

  async #apply(name: string, entry: ModelEntry, scanned: ScannedModel): Promise<void> {
    const log = this.#options.logger;
    const parsed: ModelConfig = parseModelConfig(scanned.configText, name);
    const { executionProviders, intraOpThreads, runInWorker } = this.#options;
    const config: ModelConfig = {
      ...parsed,
      ...(executionProviders !== undefined ? { executionProviders } : {}),
      ...(intraOpThreads !== undefined ? { intraOpThreads } : {}),
      ...(runInWorker !== undefined ? { runInWorker } : {}),
    };
    const configChanged = scanned.configText !== entry.configText;
    const wanted = selectVersions(config.versionPolicy, [...scanned.versions.keys()]);
    for (const version of wanted) {
      const fingerprint = scanned.versionFingerprints.get(version) ?? "";
      const slot = entry.versions.get(version);
      if (slot?.state === "READY" && slot.fingerprint === fingerprint && !configChanged) continue;
      const next: VersionSlot = { state: "LOADING", reason: "", loaded: slot?.loaded, fingerprint };
      // The old instance keeps serving while the new one loads; it is swapped out only on success.
      if (slot?.state !== "READY") entry.versions.set(version, next);
      try {
        const loaded = await loadModelVersion(name, version, scanned.versions.get(version)!, config, log);
        const previous = entry.versions.get(version)?.loaded;
        entry.versions.set(version, { state: "READY", reason: "", loaded, fingerprint });
        log.info({ model: name, version, provider: loaded.provider }, "model version ready");
        if (previous !== undefined && previous !== loaded) await previous.close();
      } catch (e) {
        const reason = errorMessage(e);
        log.error({ model: name, version, err: reason }, "model version failed to load");
        if (entry.versions.get(version)?.state !== "READY")
          entry.versions.set(version, { state: "FAILED", reason, loaded: undefined, fingerprint });
      }
    }
    await this.#retire(
      name,
      entry,
      [...entry.versions.keys()].filter((v) => !wanted.includes(v)),
    );
    entry.fingerprint = scanned.fingerprint;
    entry.configText = scanned.configText;
  }

  async #retire(name: string, entry: ModelEntry, versions: number[]): Promise<void> {
    await Promise.all(
      versions.map(async (version) => {
        const slot = entry.versions.get(version);
        if (slot === undefined) return;
        slot.state = "UNLOADING";
        await slot.loaded?.close();
        entry.versions.delete(version);
        this.#options.logger.info({ model: name, version }, "model version unloaded");
      }),
    );
  }

  #statuses(name: string, entry: ModelEntry): VersionStatus[] {
    return [...entry.versions].map(([version, slot]) => ({
      model: name,
      version,
      state: slot.state,
      reason: slot.reason,
      provider: slot.loaded?.provider ?? "",
    }));
  }

  /** The scan of a model with at least one version, or NOT_FOUND. */
  #checkFound(name: string, scanned: ScannedModel | undefined): ScannedModel {
    if (scanned === undefined)
      throw new NotFoundError(`model ${quoted(name)} is not in the model repository`);
    if (scanned.versions.size === 0)
      throw new NotFoundError(
        `model ${quoted(name)} has no version files (<version>/model.onnx) in its folder of the repository`,
      );
    return scanned;
  }

  /** Retires every version and forgets the model, as if it had never been loaded. */
  #drop(name: string, entry: ModelEntry): Promise<void> {
    entry.pinnedOff = false;
    return this.#serial(name, entry, async () => {
      await this.#retire(name, entry, [...entry.versions.keys()]);
      entry.fingerprint = "";
    }).catch((e: unknown) =>
      this.#options.logger.error({ model: name, err: errorMessage(e) }, "unloading a removed model failed"),
    );
  }

  #entry(name: string): ModelEntry {
    let entry = this.#entries.get(name);
    if (entry === undefined) {
      entry = {
        versions: new Map(),
        fingerprint: "",
        configText: "\u0000",
        pinnedOff: false,
        chain: Promise.resolve(),
        pending: 0,
      };
      this.#entries.set(name, entry);
    }
    return entry;
  }

  /**
   * Runs `op` after the model's earlier operations. When the last one ends
   * with no version left and no unload pin, the entry is dropped: a failed
   * load of a vanished model, or a model removed from disk, leaves no trace.
   */
  #serial<R>(name: string, entry: ModelEntry, op: () => Promise<R>): Promise<R> {
    entry.pending += 1;
    const run = entry.chain.then(op, op).finally(() => {
      entry.pending -= 1;
      if (entry.pending === 0 && entry.versions.size === 0 && !entry.pinnedOff)
        if (this.#entries.get(name) === entry) this.#entries.delete(name);
    });
    entry.chain = run.catch(() => undefined);
    return run;
  }

  /** How many models the repository holds state for (real models only). */
  get size(): number {
    return this.#entries.size;
  }
}

function hasVersions(scanned: ScannedModel | undefined): scanned is ScannedModel {
  return scanned !== undefined && scanned.versions.size > 0;
}

function checkName(name: string): void {
  if (name.length > maxModelNameLength)
    throw new InvalidArgumentError(
      `model name is ${name.length} characters; a model name has at most ${maxModelNameLength}`,
    );
}

/** A name for an error message, cut short so that a huge one is not echoed back. */
function quoted(name: string): string {
  return JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);
}

function readyVersions(entry: ModelEntry): ModelVersion[] {
  return [...entry.versions.values()]
    .filter((s) => s.state === "READY" && s.loaded !== undefined)
    .map((s) => s.loaded!)
    .sort((a, b) => b.version - a.version);
}
