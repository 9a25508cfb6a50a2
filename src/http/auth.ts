/**
 * The shared secret that guards every route except webhook URLs. Clients send
 * `Authorization: Bearer <secret>`, or a browser the session cookie `POST /session` set for it
 * (`session.ts`); the comparison hashes both sides first, so it takes the same time whatever the
 * length or content of a guess. A handler without a usable secret refuses the guarded routes
 * (503) with a message saying what to set: it never serves them open.
 */
import { hash, timingSafeEqual } from "node:crypto";
import { HttpProblem } from "./problem.ts";
import { cookieValue, SESSION_COOKIE, type SessionKeys, sessionKeys } from "./session.ts";

/** How a request proved it may use the API. */
export type Authentication = "bearer" | "cookie";

/** The environment variable the secret is read from. */
export const SECRET_ENV = "STEPWISE_HTTP_SECRET";
/** Shortest secret accepted: 32 characters, e.g. `openssl rand -hex 16` or longer. */
export const MIN_SECRET_LENGTH = 32;

/** Checks requests against the secret; built once per handler. */
export interface Guard {
  /**
   * Throws 503 when no usable secret is configured, 401 when the request carries neither the
   * secret (`Authorization: Bearer`) nor a valid session cookie; says which of the two it carried.
   * A request with an `Authorization` header is judged by it alone.
   */
  check(request: Request): Authentication;
  /** Whether `given` is the secret (constant time); throws 503 like `check` when none is configured. */
  isSecret(given: string): boolean;
  /** The session keys (throws 503 like `check` when no secret is configured). */
  sessions(): SessionKeys;
  /** The same check on an `Authorization` header's value (null: none), for servers without a `Request`. */
  checkAuthorization(header: string | null): void;
}

function digest(text: string): Buffer {
  // The one-shot form: no Hash object per request (every protocol call comes through here).
  return hash("sha256", text, "buffer");
}

function notConfigured(reason: string): HttpProblem {
  return new HttpProblem(
    503,
    "HTTP_SECRET_NOT_SET",
    `${reason} Set ${SECRET_ENV} to a random secret of at least ${MIN_SECRET_LENGTH} characters (e.g. \`openssl rand -hex 32\`) in the server's environment, or pass { secret } to createHandler(); until then the run API refuses every request. Webhook URLs keep working.`,
  );
}

/** `Bearer <secret>`, the secret without the blanks around it. */
const BEARER = /^[ \t]*Bearer[ \t]+(.*?)[ \t]*$/i;

const unauthorized = (message: string): HttpProblem =>
  new HttpProblem(401, "UNAUTHORIZED", message, {
    headers: { "www-authenticate": 'Bearer realm="stepwise"' },
  });

/** The guard for `secret` (undefined or too short: every guarded request gets a 503). */
export function createGuard(secret: string | undefined): Guard {
  if (secret === undefined || secret === "") {
    const problem = notConfigured(`No secret is configured for Stepwise's HTTP API.`);
    return refuseAll(problem);
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    const problem = notConfigured(`The configured secret is too short (${secret.length} characters).`);
    return refuseAll(problem);
  }
  const expected = digest(secret);
  const checkAuthorization = (header: string | null): void => {
    if (header === null) {
      throw unauthorized(`This route needs the API secret: send "Authorization: Bearer <${SECRET_ENV}>".`);
    }
    const given = BEARER.exec(header)?.[1] ?? "";
    if (!timingSafeEqual(digest(given), expected)) {
      throw unauthorized(
        `The Authorization header does not carry the right secret. Send "Authorization: Bearer <${SECRET_ENV}>" with the value the server is configured with.`,
      );
    }
  };
  const keys = sessionKeys(secret);
  return {
    check(request) {
      const header = request.headers.get("authorization");
      const cookie = cookieValue(request, SESSION_COOKIE);
      if (header === null && cookie !== undefined) {
        if (keys.verify(cookie)) return "cookie";
        throw unauthorized(
          'The session cookie is not valid (it expired, or the server\'s secret changed): sign in again (POST /session), or send "Authorization: Bearer <STEPWISE_HTTP_SECRET>".',
        );
      }
      checkAuthorization(header);
      return "bearer";
    },
    isSecret: (given) => timingSafeEqual(digest(given), expected),
    sessions: () => keys,
    checkAuthorization,
  };
}

/** A guard that refuses everything with `problem` (no usable secret). */
function refuseAll(problem: HttpProblem): Guard {
  const refuse = (): never => {
    throw problem;
  };
  return { check: refuse, isSecret: refuse, sessions: refuse, checkAuthorization: refuse };
}
