import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/**
 * A loopback OTLP/HTTP receiver for `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`:
 * it accepts POST /v1/traces and keeps the spans, flattened, and the raw
 * bodies (to check that nothing secret was exported anywhere in them). It
 * stands in for the collector, which cannot be installed on these machines.
 */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  serviceName: string;
  /** Attribute values as strings (ints and bools included). */
  attributes: Record<string, string>;
  links: { traceId: string; spanId: string }[];
  events: { name: string; attributes: Record<string, string> }[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  /** The span's trace flags as exported (bit 0: sampled). */
  flags: number;
}

export interface OtlpReceiver {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT; the exporter appends /v1/traces. */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  /** Every export request's body, decoded. */
  readonly bodies: string[];
  close(): Promise<void>;
}

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
};
type KeyValue = { key: string; value?: AnyValue };

// The subset of the OTLP JSON encoding that the assertions need.
interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        flags?: number;
        attributes?: KeyValue[];
        links?: { traceId: string; spanId: string }[];
        events?: { name: string; attributes?: KeyValue[] }[];
        status?: { code?: number; message?: string };
      }[];
    }[];
  }[];
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/traces") {
      res.writeHead(404).end();
      return;
    }
    readBody(req).then(
      (body) => {
        const text = body.toString("utf8");
        bodies.push(text);
        spans.push(...flatten(JSON.parse(text) as ExportRequest));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      },
      () => res.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of list ?? []) {
    const v = value?.stringValue ?? value?.intValue ?? value?.boolValue ?? value?.doubleValue;
    if (v !== undefined) out[key] = String(v);
  }
  return out;
}

function flatten(request: ExportRequest): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const serviceName = attributesOf(resourceSpans.resource?.attributes)["service.name"] ?? "";
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? "",
        name: s.name,
        kind: s.kind ?? 0,
        serviceName,
        attributes: attributesOf(s.attributes),
        links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
        events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributesOf(e.attributes) })),
        status: { code: s.status?.code ?? 0, message: s.status?.message ?? "" },
        flags: s.flags ?? 0,
      })),
    );
  });
}
