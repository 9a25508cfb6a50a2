/**
 * The OpenAPI 3.1 description of the worker protocol, made from the same schemas the server checks
 * bodies with (`operations.ts`), so the file cannot drift from the code: `docs/protocol.openapi.json`
 * is this document, and a test fails when the two differ (regenerate with
 * `UPDATE_OPENAPI=1 npx vitest run test/protocol/openapi.test.ts`).
 */
import { errorBody, operations, PROTOCOL_VERSION, PROTOCOL_VERSIONS } from "./operations.ts";
import { componentSchemas, type JsonSchema } from "./schema.ts";

const ERROR_STATUSES: Record<string, string> = {
  "400":
    "A malformed body (INVALID_JSON, INVALID_BODY with `issues`) or an unsupported protocol version (PROTOCOL_VERSION_UNSUPPORTED).",
  "401": "No bearer secret, or the wrong one (UNAUTHORIZED). Checked before anything else.",
  "404": "Not found: RUN_NOT_FOUND, HOOK_NOT_FOUND, NOT_FOUND, WORKER_NOT_FOUND, OPERATION_NOT_FOUND.",
  "409":
    "Conflict: SEQUENCE_CONFLICT, LEASE_LOST, RUN_FINISHED, RUN_ID_CONFLICT, HOOK_TOKEN_CONFLICT, IMPORT_CONFLICT, WORKFLOW_VERSION_CONFLICT, CONFLICT.",
  "413": "Too large: BODY_TOO_LARGE (the request), PAYLOAD_TOO_LARGE (a run's byte budget).",
  "503":
    "The World behind the server is unavailable (WORLD_UNAVAILABLE, WORLD_BUSY, WORLD_STORAGE), or the server has no secret (HTTP_SECRET_NOT_SET).",
};

function errorResponses(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(ERROR_STATUSES).map(([status, description]) => [
      status,
      { description, content: { "application/json": { schema: errorBody.json() } } },
    ]),
  );
}

/** The document, as a plain JSON value. */
export function openApiDocument(): JsonSchema {
  const base = `/stepwise/protocol/${PROTOCOL_VERSION}`;
  const paths: Record<string, unknown> = {
    "/stepwise/protocol": {
      get: {
        operationId: "versions",
        summary: "The protocol versions this server speaks.",
        responses: {
          "200": {
            description: "The versions, oldest first.",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: { versions: { type: "array", items: { type: "string" } } },
                  required: ["versions"],
                  additionalProperties: false,
                },
              },
            },
          },
          "401": errorResponses()["401"],
        },
      },
    },
    [`${base}/notifications`]: {
      get: {
        operationId: "notifications",
        summary:
          'The World\'s change hints as server-sent events: first `event: ready`, then one `data:` line per hint (a Notification as JSON); a comment every 15 s. Reconnect when it ends, treating the gap as `{ "type": "any" }`.',
        responses: {
          "200": {
            description: "An event stream.",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
          "401": errorResponses()["401"],
        },
      },
    },
  };
  for (const [key, operation] of Object.entries(operations)) {
    paths[`${base}/${operation.path}`] = {
      post: {
        operationId: key,
        summary: operation.summary,
        requestBody: {
          required: true,
          content: { "application/json": { schema: operation.request.json() } },
        },
        responses: {
          "200": {
            description: "Done.",
            content: { "application/json": { schema: operation.response.json() } },
          },
          ...errorResponses(),
        },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Stepwise worker protocol",
      version: PROTOCOL_VERSIONS.at(-1) ?? PROTOCOL_VERSION,
      description:
        "The World's operations over HTTP/JSON, plus worker registration and task leases: what a worker in any language speaks to a Stepwise server. See docs/protocol.md. Bytes are standard base64 strings (padded); times are epoch milliseconds.",
    },
    servers: [{ url: "http://127.0.0.1:4100" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "STEPWISE_HTTP_SECRET" } },
      schemas: componentSchemas(),
    },
  };
}
