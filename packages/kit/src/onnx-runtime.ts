/**
 * Turns off onnxruntime's telemetry for this process, unless the operator set
 * ORT_DISABLE_TELEMETRY. Its Linux build carries Microsoft's 1DS telemetry,
 * which writes `.ses` and `mat-debug-<pid>.log` into the temp folder of every
 * process that creates a session, and never removes them: a server started
 * a thousand times leaves a thousand files. ORT reads the variable when it
 * creates its environment, at the first session, so call this before
 * `InferenceSession.create`; it costs nothing after the first call.
 */
export function disableOrtTelemetry(): void {
  process.env.ORT_DISABLE_TELEMETRY ??= "1";
}
