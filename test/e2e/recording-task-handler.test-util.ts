import { credentials, Server, ServerCredentials } from "@grpc/grpc-js";
import { executorV1 } from "@prescient/contracts";
import { callUnary } from "@prescient/kit";

/** One Handle call's hold on one task: from the call's arrival to its answer. */
export interface TaskRun {
  taskId: string;
  key: string;
  /** The executor connection that called (its peer address). */
  caller: string;
  start: number;
  end: number;
}

/** A task handled by two calls at once: its lease let a second executor run it while the first still did. */
export interface Overlap {
  taskId: string;
  key: string;
  first: TaskRun;
  second: TaskRun;
}

export interface RecordingTaskHandlerOptions {
  /** The real TaskHandlerService every call is passed on to. */
  upstream: string;
  /** How long the n-th call (from 0) is held before it is passed on, ms. */
  holdMs: (n: number) => number;
}

/**
 * A TaskHandlerService in front of the real one (`prescient serve
 * task-handler`) that notes when each task id's handling starts and ends, so a
 * test sees a task run by two executors at the same time. Calls are held a
 * while first, some longer than the queue's lease: an executor must extend its
 * leases through them, or the task goes back to the queue, a second executor
 * claims it, and its call overlaps the first.
 */
export class RecordingTaskHandler {
  readonly runs: TaskRun[] = [];
  #calls = 0;
  readonly #server = new Server();
  readonly #upstream: executorV1.TaskHandlerServiceClient;
  readonly #holdMs: (n: number) => number;
  #address = "";

  constructor(options: RecordingTaskHandlerOptions) {
    this.#upstream = new executorV1.TaskHandlerServiceClient(options.upstream, credentials.createInsecure());
    this.#holdMs = options.holdMs;
    this.#server.addService(executorV1.TaskHandlerServiceService, {
      handle: (call, callback) => {
        this.#handle(call.request, call.getPeer()).then(
          (res) => callback(null, res),
          (e: Error) => callback(e),
        );
      },
    } satisfies executorV1.TaskHandlerServiceServer);
  }

  async #handle(req: executorV1.HandleRequest, caller: string): Promise<executorV1.HandleResponse> {
    const start = Date.now();
    const hold = this.#holdMs(this.#calls++);
    if (hold > 0) await new Promise((r) => setTimeout(r, hold));
    try {
      return await callUnary(this.#upstream.handle.bind(this.#upstream), req, { timeoutMs: 30_000 });
    } finally {
      const end = Date.now();
      for (const item of req.items)
        this.runs.push({ taskId: item.taskId, key: item.key, caller, start, end });
    }
  }

  /** Listens on a free loopback port; answers its address. */
  async start(): Promise<string> {
    const port = await new Promise<number>((resolve, reject) =>
      this.#server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    this.#address = `127.0.0.1:${port}`;
    return this.#address;
  }

  get address(): string {
    return this.#address;
  }

  /** Handle calls so far. */
  get calls(): number {
    return this.#calls;
  }

  /** Forgets what was recorded: the next mesh starts from nothing. */
  reset(): void {
    this.runs.length = 0;
    this.#calls = 0;
  }

  /** Every pair of runs of one task id whose holds overlap in time. */
  overlaps(): Overlap[] {
    const byTask = new Map<string, TaskRun[]>();
    for (const r of this.runs) byTask.set(r.taskId, [...(byTask.get(r.taskId) ?? []), r]);
    const out: Overlap[] = [];
    for (const [taskId, runs] of byTask) {
      runs.sort((a, b) => a.start - b.start);
      for (let i = 1; i < runs.length; i++) {
        const first = runs[i - 1] as TaskRun;
        const second = runs[i] as TaskRun;
        if (second.start < first.end) out.push({ taskId, key: first.key, first, second });
      }
    }
    return out;
  }

  /** Task ids handled more than once, one after the other (at least once allows it: a retry, a lapsed lease). */
  reruns(): number {
    const seen = new Map<string, number>();
    for (const r of this.runs) seen.set(r.taskId, (seen.get(r.taskId) ?? 0) + 1);
    return [...seen.values()].filter((n) => n > 1).length;
  }

  async stop(): Promise<void> {
    this.#upstream.close();
    await new Promise<void>((resolve) => this.#server.tryShutdown(() => resolve()));
  }
}
