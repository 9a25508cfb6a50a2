/**
 * Browser sessions for the dashboard: `POST /session` with the API secret sets a cookie that
 * authenticates like `Authorization: Bearer <secret>`, so a page never keeps the secret in
 * script-readable storage. The cookie is not the secret: it is `v1.<expiry>.<mac>`, an HMAC-SHA256
 * of the version and the expiry (epoch ms, base 36) under a key derived from the secret, checked
 * in constant time and refused once expired (12 h). Changing the secret ends every session. A
 * request authenticated by the cookie that changes something (any method but GET and HEAD) must
 * come from the same site (`sameOrigin`): its `Origin` header names the request's own host, or,
 * without one, `Sec-Fetch-Site: same-origin`; otherwise 403 CROSS_SITE. Bearer requests are not
 * affected (a browser never adds that header by itself).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { HttpProblem } from "./problem.ts";

/** The cookie's name. */
export const SESSION_COOKIE = "stepwise_session";
/** How long a session lasts (ms). */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const VERSION = "v1";

/** Issues and checks session cookie values for one secret. */
export interface SessionKeys {
  /** A fresh cookie value, valid until `now + SESSION_TTL_MS`. */
  issue(now?: number): string;
  /** Whether `value` is a cookie this secret issued and it has not expired. */
  verify(value: string, now?: number): boolean;
}

/** The session keys of `secret` (its own HMAC key, derived once). */
export function sessionKeys(secret: string): SessionKeys {
  const key = createHmac("sha256", secret).update("stepwise session cookie v1").digest();
  const mac = (text: string): Buffer => createHmac("sha256", key).update(text).digest();
  return {
    issue(now = Date.now()) {
      const payload = `${VERSION}.${(now + SESSION_TTL_MS).toString(36)}`;
      return `${payload}.${mac(payload).toString("base64url")}`;
    },
    verify(value, now = Date.now()) {
      const match = /^(v1\.([0-9a-z]{1,12}))\.([A-Za-z0-9_-]{43})$/.exec(value);
      if (match === null) return false;
      const given = Buffer.from(match[3] ?? "", "base64url");
      const expected = mac(match[1] ?? "");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
      return Number.parseInt(match[2] ?? "", 36) > now;
    },
  };
}

/** The value of cookie `name` in the request's `Cookie` header, if any. */
export function cookieValue(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/** The `Set-Cookie` value for a session (or, with `value` undefined, one that clears it). */
export function sessionCookie(value: string | undefined, secure: boolean): string {
  const parts = [
    `${SESSION_COOKIE}=${value ?? ""}`,
    "HttpOnly",
    "SameSite=Strict",
    "Path=/",
    `Max-Age=${value === undefined ? 0 : Math.floor(SESSION_TTL_MS / 1000)}`,
  ];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}

/**
 * Refuses (403 CROSS_SITE) a request that does not come from a page of this same site: its
 * `Origin` must name the request's own host (scheme aside: a TLS proxy in front changes it), or,
 * when the browser sent no `Origin`, `Sec-Fetch-Site` must be `same-origin`.
 */
export function requireSameOrigin(request: Request, url: URL): void {
  const origin = request.headers.get("origin");
  let same: boolean;
  if (origin !== null && origin !== "null") {
    try {
      same = new URL(origin).host === url.host;
    } catch {
      same = false;
    }
  } else {
    same = request.headers.get("sec-fetch-site") === "same-origin";
  }
  if (!same) {
    throw new HttpProblem(
      403,
      "CROSS_SITE",
      `This request is authenticated by the session cookie but does not come from a page of ${url.host} (its Origin is ${origin === null ? "missing" : JSON.stringify(origin.slice(0, 200))}): it is refused, as a cross-site request forgery could be. Send it from the dashboard itself, or authenticate with "Authorization: Bearer <STEPWISE_HTTP_SECRET>".`,
    );
  }
}
