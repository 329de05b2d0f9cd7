import { Worker } from "node:worker_threads";
import type { InferenceSession } from "onnxruntime-node";
import type { TypedArray } from "../tensors/datatypes.js";

/**
 * One model instance's session on a worker thread of its own
 * (`run_in_worker: true`). onnxruntime-node runs a session on the thread
 * that calls it: on the event loop's thread, a batch's compute and the next
 * requests' gRPC work take turns, and health checks wait behind a long
 * batch. Here the model computes while the event loop receives, batches and
 * answers, as a Triton model instance runs beside its server's frontend.
 *
 * A batch's inputs are copied once into buffers that are then moved (not
 * copied again) to the worker; outputs come back by structured clone. A
 * worker that dies fails the batches it held with an error, and the next
 * batch starts a new one from the same model bytes and options.
 */
export interface WorkerTensor {
  name: string;
  /** ORT's type name (float32, int64, ...). */
  type: string;
  dims: readonly number[];
  data: TypedArray | readonly string[];
}

export interface WorkerOutput {
  name: string;
  dims: number[];
  data: TypedArray | string[];
}

/** The worker script: outside src/ and dist/, at the same depth from both (see the script). */
const script = new URL("../../workers/session-worker.mjs", import.meta.url);

interface Pending {
  resolve: (outputs: WorkerOutput[]) => void;
  reject: (e: Error) => void;
}

interface Started {
  worker: Worker;
  inputs: InferenceSession.ValueMetadata[];
  outputs: InferenceSession.ValueMetadata[];
}

export class WorkerSession {
  readonly inputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly #model: Uint8Array;
  readonly #options: InferenceSession.SessionOptions;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  /** A replacement being started after a worker died; batches wait for it. */
  #restarting: Promise<Worker> | undefined;
  #nextId = 0;
  #released = false;

  private constructor(model: Uint8Array, options: InferenceSession.SessionOptions, started: Started) {
    this.#model = model;
    this.#options = options;
    this.inputMetadata = started.inputs;
    this.outputMetadata = started.outputs;
    this.#adopt(started.worker);
  }

  /** Starts a worker and its session; rejects with ORT's message when the session cannot be created. */
  static async start(model: Uint8Array, options: InferenceSession.SessionOptions): Promise<WorkerSession> {
    return new WorkerSession(model, options, await spawn(model, options));
  }

  /** The worker's thread id (for logs); -1 while none runs. */
  get threadId(): number {
    return this.#worker?.threadId ?? -1;
  }

  /** Runs one batch on the worker. */
  async run(inputs: readonly WorkerTensor[]): Promise<WorkerOutput[]> {
    if (this.#released) throw new Error("the model instance was released");
    const worker = this.#worker ?? (await this.#restart());
    const id = this.#nextId++;
    const transfer: ArrayBuffer[] = [];
    const message = {
      id,
      inputs: inputs.map((t) => {
        if (!ArrayBuffer.isView(t.data)) return t;
        // A view into a larger buffer (a request's bytes) would be cloned whole: it is copied out first,
        // and the copy is moved.
        const data = t.data.slice();
        transfer.push(data.buffer as ArrayBuffer);
        return { name: t.name, type: t.type, dims: t.dims, data };
      }),
    };
    return new Promise<WorkerOutput[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage(message, transfer);
    });
  }

  /** Finishes with the worker: its session is released and the thread ends. */
  async release(): Promise<void> {
    this.#released = true;
    const worker = this.#worker ?? (await this.#restarting?.catch(() => undefined));
    this.#worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    // The worker answers what it holds first (messages are handled in order), then ends. It is never
    // terminated: tearing a thread down in the middle of onnxruntime-node's run aborts the whole
    // process (measured: "terminate called after throwing an instance of 'Napi::Error'").
    worker.postMessage({ close: true });
    await exited;
  }

  /**
   * Ends an idle worker as a crash would (tests only: see release for why a
   * busy one must not be); the next batch starts a new one.
   */
  async kill(): Promise<void> {
    await this.#worker?.terminate();
  }

  #adopt(worker: Worker): void {
    this.#worker = worker;
    worker.on("message", (m: { id: number; outputs?: WorkerOutput[]; error?: string }) => {
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.outputs ?? []);
    });
    const lost = (why: string): void => {
      if (this.#worker === worker) this.#worker = undefined;
      const error = new Error(`the model instance's worker ${why}`);
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
    };
    worker.on("error", (e) => lost(`failed: ${e.message}`));
    worker.on("exit", (code) => lost(`exited (code ${code})`));
  }

  #restart(): Promise<Worker> {
    this.#restarting ??= spawn(this.#model, this.#options)
      .then((started) => {
        if (this.#released) {
          void started.worker.terminate();
          throw new Error("the model instance was released");
        }
        this.#adopt(started.worker);
        return started.worker;
      })
      .finally(() => {
        this.#restarting = undefined;
      });
    return this.#restarting;
  }
}

/** A worker's start-up error without the directories it names (the module's path, say): it may reach a client. */
const withoutDirectories = (message: string): string => message.replace(/(?:file:\/\/)?\/[^\s'"]*\//g, "");

function spawn(model: Uint8Array, options: InferenceSession.SessionOptions): Promise<Started> {
  const worker = new Worker(script, { workerData: { model, options } });
  return new Promise<Started>((resolve, reject) => {
    const onError = (e: Error): void => {
      settle();
      void worker.terminate();
      reject(new Error(`the model instance's worker failed: ${withoutDirectories(e.message)}`));
    };
    const onExit = (code: number): void => {
      settle();
      reject(new Error(`the model instance's worker exited (code ${code})`));
    };
    const onMessage = (m: { ready?: true; failed?: true; message?: string } & Partial<Started>): void => {
      settle();
      if (m.ready === true) resolve({ worker, inputs: m.inputs ?? [], outputs: m.outputs ?? [] });
      else {
        void worker.terminate();
        reject(new Error(m.message ?? "the model instance's worker could not start its session"));
      }
    };
    const settle = (): void => {
      worker.off("error", onError).off("exit", onExit).off("message", onMessage);
    };
    worker.on("error", onError).on("exit", onExit).on("message", onMessage);
  });
}
