// @ts-check
/**
 * One model instance's ONNX Runtime session, on a worker thread of its own
 * (run_in_worker: true; worker-session.ts is the other end). onnxruntime-node
 * runs a session on the thread that calls it, so on the event loop's thread
 * compute and gRPC take turns; here they overlap.
 *
 * Plain JavaScript, outside src/ and dist/ at the same depth from both, so
 * that the compiled service and the tests (which run the TypeScript) start
 * the same file.
 *
 * In: workerData { model: Uint8Array, options: SessionOptions }, then
 * { id, inputs: [{ name, type, dims, data }] } per batch. Out: { ready,
 * inputs, outputs } (the session's metadata) or { failed, message }, then
 * { id, outputs: [{ name, dims, data }] } or { id, error }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { InferenceSession, Tensor } from "onnxruntime-node";

const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);

/**
 * onnxruntime-common turns a float16 tensor's Uint16Array into a Float16Array
 * where the runtime has one, and the binding then reads its byte length as 0:
 * it needs the raw 16-bit words (model-version.ts does the same).
 * @param {Tensor} tensor
 */
function float16AsUint16(tensor) {
  if (tensor.type !== "float16" || tensor.data instanceof Uint16Array) return tensor;
  const d = /** @type {ArrayBufferView} */ (/** @type {unknown} */ (tensor.data));
  Object.defineProperty(tensor, "data", { value: new Uint16Array(d.buffer, d.byteOffset, d.byteLength / 2) });
  return tensor;
}

/** @param {unknown} e */
const messageOf = (e) => (e instanceof Error ? e.message : String(e));

/** @type {InferenceSession} */
let session;
try {
  session = await InferenceSession.create(workerData.model, workerData.options);
} catch (e) {
  port.postMessage({ failed: true, message: messageOf(e) });
  process.exit(0);
}
port.postMessage({
  ready: true,
  inputs: session.inputMetadata.map((m) => ({ ...m })),
  outputs: session.outputMetadata.map((m) => ({ ...m })),
});

/**
 * One message at a time, in order: run answers through a setImmediate, so
 * without the chain a close sent behind a batch could release the session
 * under it.
 */
let chain = Promise.resolve();
port.on("message", (/** @type {any} */ m) => {
  chain = chain.then(() => handle(m));
});

/** @param {any} m */
async function handle(m) {
  if (m.close === true) {
    await session.release().catch(() => {});
    port.close();
    return;
  }
  try {
    /** @type {Record<string, Tensor>} */
    const feeds = {};
    for (const t of m.inputs) feeds[t.name] = float16AsUint16(new Tensor(t.type, t.data, t.dims));
    const results = await session.run(feeds);
    const outputs = [];
    for (const [name, out] of Object.entries(results))
      outputs.push({ name, dims: [...out.dims], data: out.data });
    port.postMessage({ id: m.id, outputs });
  } catch (e) {
    port.postMessage({ id: m.id, error: messageOf(e) });
  }
}
