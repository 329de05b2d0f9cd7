import {
  type Attributes,
  type Context,
  diag,
  type Link,
  type SpanKind,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Samples a root span when any of its links was sampled, and otherwise asks
 * `delegate`. Queued work starts a new trace (the executor's batch span is a
 * root linked to every task's enqueuer); under a ratio sampler that root
 * would be kept at random, independently of the traces it serves, so nearly
 * every kept trigger would lose its computation. This follows OpenTelemetry
 * Java contrib's LinksBasedSampler. A span with a parent follows `delegate`
 * (parent-based in every shipped configuration), so the rule only ever adds
 * roots that serve a kept trace.
 */
export class LinksBasedSampler implements Sampler {
  readonly #delegate: Sampler;

  constructor(delegate: Sampler) {
    this.#delegate = delegate;
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    const parent = trace.getSpanContext(context);
    if (parent === undefined && links.some((l) => (l.context.traceFlags & TraceFlags.SAMPLED) !== 0))
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return this.#delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `LinksBased{delegate=${this.#delegate.toString()}}`;
  }
}

/**
 * The sampler that OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name, as
 * the SDK would build it (the SDK's own builder is not exported), wrapped in
 * a LinksBasedSampler. Unknown names fall back to the SDK's default,
 * parentbased_always_on, with a diag warning, as the SDK does.
 */
export function samplerFromEnv(env: Env): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? "").trim().toLowerCase() || "parentbased_always_on";
  const ratio = (): Sampler => new TraceIdRatioBasedSampler(ratioFrom(env.OTEL_TRACES_SAMPLER_ARG));
  const base = ((): Sampler => {
    switch (name) {
      case "always_on":
        return new AlwaysOnSampler();
      case "always_off":
        return new AlwaysOffSampler();
      case "traceidratio":
        return ratio();
      case "parentbased_always_off":
        return new ParentBasedSampler({ root: new AlwaysOffSampler() });
      case "parentbased_traceidratio":
        return new ParentBasedSampler({ root: ratio() });
      case "parentbased_always_on":
        return new ParentBasedSampler({ root: new AlwaysOnSampler() });
      default:
        diag.warn(
          `OTEL_TRACES_SAMPLER ${JSON.stringify(name)} is not supported; using parentbased_always_on`,
        );
        return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    }
  })();
  // always_off means nothing at all; a link must not revive it.
  return name === "always_off" ? base : new LinksBasedSampler(base);
}

function ratioFrom(arg: string | undefined): number {
  if (arg === undefined || arg.trim() === "") return 1;
  const ratio = Number(arg);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    diag.warn(`OTEL_TRACES_SAMPLER_ARG ${JSON.stringify(arg)} is not a ratio in [0, 1]; using 1`);
    return 1;
  }
  return ratio;
}
