/**
 * HTTP in workflow code: the durable `fetch` (a built-in step, so it is retried and recorded like
 * any step) and webhooks (hooks whose payloads are HTTP requests). Requests and responses cross the
 * step and hook boundaries as plain shapes and are rebuilt here as `Request` / `Response` objects.
 *
 * `Response` in a workflow realm remembers how it was made, so a static webhook response given at
 * creation can be recorded at once (workflow calls are synchronous).
 *
 * Runs inside the sandbox: no Node imports.
 */
import { StepwiseError } from "../errors/base.ts";

/** An HTTP response as it crosses a boundary. */
export interface ResponseShape {
  status: number;
  statusText?: string;
  headers: [string, string][];
  body?: string | Uint8Array | null;
  url?: string;
  redirected?: boolean;
}

/** An HTTP request as it crosses a boundary (a fetch call, a webhook delivery). */
export interface RequestShape {
  /** For webhook deliveries: the id the workflow's manual response answers. */
  id?: string;
  url: string;
  method: string;
  headers: [string, string][];
  body?: string | Uint8Array | null;
}

const SHAPE = Symbol.for("stepwise.responseShape");

type ResponseConstructor = typeof Response;

function headerList(init: ConstructorParameters<typeof Headers>[0]): [string, string][] {
  const list: [string, string][] = [];
  new Headers(init).forEach((value, key) => {
    list.push([key, value]);
  });
  return list;
}

function bodyShape(body: unknown): string | Uint8Array | null {
  if (body === undefined || body === null) return null;
  if (typeof body === "string") return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array) return new Uint8Array(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
  if (ArrayBuffer.isView(body))
    return new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  throw new StepwiseError(
    "This body cannot be recorded by a workflow: use a string, bytes (Uint8Array / ArrayBuffer), URLSearchParams, or JSON (Response.json).",
  );
}

/** Replaces the realm's `Response` with one that remembers its status, headers and body. */
export function installCapturingResponse(realm: Record<string, unknown>): void {
  const Base = realm.Response as ResponseConstructor | undefined;
  if (Base === undefined) return;
  class CapturingResponse extends Base {
    constructor(body?: ConstructorParameters<typeof Response>[0], init?: ResponseInit) {
      super(body, init);
      Object.defineProperty(this, SHAPE, {
        value: {
          status: init?.status ?? 200,
          statusText: init?.statusText ?? "",
          headers: headerList(this.headers),
          body: bodyShape(body),
        } satisfies ResponseShape,
      });
    }
    static override json(data: unknown, init?: ResponseInit): Response {
      const headers = new Headers(init?.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new CapturingResponse(JSON.stringify(data), { ...init, headers });
    }
  }
  realm.Response = CapturingResponse;
}

/** The recorded shape of a `Response` made in workflow code. */
export function responseShape(response: unknown): ResponseShape {
  const shape = (response as Record<symbol, ResponseShape | undefined> | null)?.[SHAPE];
  if (shape === undefined) {
    throw new StepwiseError(
      "A webhook response must be a Response made in the workflow with new Response(body, init) or Response.json(data, init), with a string, bytes or JSON body.",
    );
  }
  return shape;
}

/** Rebuilds a `Response` from its shape (fetch results). */
export function toResponse(shape: ResponseShape, realm: Record<string, unknown>): Response {
  const ResponseClass = realm.Response as ResponseConstructor;
  const nullBody =
    shape.status === 204 || shape.status === 304 || (shape.status >= 100 && shape.status < 200);
  const response = new ResponseClass(nullBody ? null : (shape.body ?? null), {
    status: shape.status,
    statusText: shape.statusText ?? "",
    headers: shape.headers,
  });
  if (shape.url !== undefined) Object.defineProperty(response, "url", { value: shape.url });
  if (shape.redirected !== undefined)
    Object.defineProperty(response, "redirected", { value: shape.redirected });
  return response;
}

/** The shape of what was passed to `fetch(input, init)`. */
export async function requestShape(input: unknown, init: RequestInit | undefined): Promise<RequestShape> {
  if (typeof input !== "string" && !(input instanceof URL) && !(input instanceof Request)) {
    throw new StepwiseError("fetch() takes a URL string, a URL or a Request.");
  }
  const request = input instanceof Request ? input : undefined;
  const url = request ? request.url : String(input);
  const method = (init?.method ?? request?.method ?? "GET").toUpperCase();
  const headers = headerList(init?.headers ?? request?.headers);
  let body: string | Uint8Array | null = null;
  if (init?.body !== undefined && init.body !== null) body = bodyShape(init.body);
  else if (request && request.body !== null) body = new Uint8Array(await request.arrayBuffer());
  return { url, method, headers, body };
}

/** Rebuilds a delivered webhook request; in manual mode it gets `respondWith(response)`. */
export function toRequest(
  shape: RequestShape,
  realm: Record<string, unknown>,
  respond: ((id: string, response: ResponseShape) => Promise<unknown>) | undefined,
): Request {
  const RequestClass = realm.Request as typeof Request;
  const hasBody =
    shape.method !== "GET" && shape.method !== "HEAD" && shape.body !== null && shape.body !== undefined;
  const request = new RequestClass(shape.url, {
    method: shape.method,
    headers: shape.headers,
    ...(hasBody ? { body: shape.body as string | Uint8Array } : {}),
  });
  if (respond !== undefined && shape.id !== undefined) {
    const id = shape.id;
    Object.defineProperty(request, "respondWith", {
      value: async (response: unknown): Promise<void> => {
        await respond(id, responseShape(response));
      },
    });
  }
  return request;
}
