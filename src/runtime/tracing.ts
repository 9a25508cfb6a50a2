/**
 * OpenTelemetry, when the application has it. `@opentelemetry/api` is an optional peer: it is
 * loaded once, lazily (`loadTracing()`, awaited by the worker before it drives a run and by
 * `start()`), never imported statically, so a process without it loads nothing and pays nothing.
 * Spans are made only while a tracer provider is registered (`registeredTracer()` is undefined
 * otherwise: two calls into the API, no allocation). The run's trace context is the W3C
 * `traceparent` kept in its `run_created` event or, for a run started without one, a root derived
 * from the run's id and creation time, the same in every process (and in the Python SDK).
 * Design: docs/architecture.md §3 "Tracing"; for users: docs/tracing.md.
 */
import { createHash } from "node:crypto";
import type * as Otel from "@opentelemetry/api";

/** The API module, as the application installed it. */
export type OtelApi = typeof Otel;

/** The instrumentation scope of every span Stepwise makes. */
export const TRACER_NAME = "stepwise-workflows";

/** A variable, not a literal: type checkers and bundlers leave the optional import alone. */
const API_MODULE: string = "@opentelemetry/api";

let api: OtelApi | undefined;
let loading: Promise<OtelApi | undefined> | undefined;

/**
 * Loads `@opentelemetry/api` the first time it is called (later calls return the same promise);
 * undefined when the module cannot be loaded, and tracing stays off for the process.
 */
export function loadTracing(): Promise<OtelApi | undefined> {
  loading ??= import(API_MODULE).then(
    (module: OtelApi & { default?: OtelApi }) => {
      // CommonJS through import(): the named exports, or the whole module as `default`.
      api = typeof module.trace === "object" ? module : module.default;
      return api;
    },
    () => undefined,
  );
  return loading;
}

/** The loaded API, if `loadTracing()` found it. */
export function tracingApi(): OtelApi | undefined {
  return api;
}

/** Stepwise's tracer while a tracer provider is registered; undefined otherwise (or without the API). */
export function registeredTracer(): Otel.Tracer | undefined {
  if (api === undefined) return undefined;
  const provider = api.trace.getTracerProvider();
  // The global provider is a proxy until the application registers one behind it.
  if (provider instanceof api.ProxyTracerProvider) return provider.getDelegateTracer(TRACER_NAME);
  return provider.getTracer(TRACER_NAME);
}

/** A W3C trace context: `traceparent` and, if any, `tracestate`. */
export interface TraceContextText {
  traceparent: string;
  tracestate?: string;
}

/** The ids a `traceparent` carries. */
export interface ParsedTraceparent {
  traceId: string;
  spanId: string;
  /** Bit 0: sampled. */
  flags: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Reads a W3C `traceparent` (version 00, or a later one by its first four fields); undefined if malformed. */
export function parseTraceparent(text: string | undefined): ParsedTraceparent | undefined {
  const match = text === undefined ? null : TRACEPARENT.exec(text);
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as string[];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId as string) || /^0+$/.test(spanId as string)) return undefined;
  return {
    traceId: traceId as string,
    spanId: spanId as string,
    flags: Number.parseInt(flags as string, 16),
  };
}

/** Writes a version-00 `traceparent`. */
export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, "0")}`;
}

/**
 * The trace a run started without a trace context belongs to: trace id and parent span id taken
 * from SHA-256 of `stepwise-trace:<runId>:<createdAt>`, sampled. Every process derives the same
 * (the Python SDK too), so the run's spans form one trace; the parent span itself is never
 * emitted (docs/tracing.md says what that looks like in a trace viewer).
 */
export function derivedTraceparent(runId: string, createdAt: number): string {
  const digest = createHash("sha256").update(`stepwise-trace:${runId}:${createdAt}`).digest("hex");
  let traceId = digest.slice(0, 32);
  let spanId = digest.slice(32, 48);
  if (/^0+$/.test(traceId)) traceId = `${traceId.slice(0, 31)}1`;
  if (/^0+$/.test(spanId)) spanId = `${spanId.slice(0, 15)}1`;
  return formatTraceparent(traceId, spanId, 1);
}

/** The short name of a workflow or step id (`workflow//./src/order.ts//order` is `order`). */
export function shortName(id: string): string {
  const at = id.lastIndexOf("//");
  return at === -1 ? id : id.slice(at + 2);
}
