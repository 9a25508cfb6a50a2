/**
 * `POST /session` and `DELETE /session`: signing a browser in and out (`session.ts`). Signing in
 * takes the API secret as JSON (`{ "secret": "…" }`) or as a form field (`secret=…`, from a plain
 * HTML form), and answers 204 with the session cookie; a wrong secret is 401 and sets nothing. A
 * request whose `Origin` names another site is refused (403 CROSS_SITE) before the secret is
 * looked at. Signing out clears the cookie.
 */
import { readBodyBytes } from "../body.ts";
import type { ResolvedOptions } from "../options.ts";
import { HttpProblem } from "../problem.ts";
import type { RouteContext } from "../router.ts";
import { sessionCookie } from "../session.ts";

const MAX_LOGIN_BODY = 16 * 1024;

/** The secret in a JSON or form body (400 when neither carries a `secret` string). */
async function secretOf(request: Request): Promise<string> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const text = new TextDecoder().decode(await readBodyBytes(request, MAX_LOGIN_BODY));
  let secret: unknown;
  if (type === "application/json") {
    try {
      secret = (JSON.parse(text) as { secret?: unknown } | null)?.secret;
    } catch {
      throw new HttpProblem(
        400,
        "INVALID_JSON",
        'The body is not JSON: send {"secret": "<STEPWISE_HTTP_SECRET>"}.',
      );
    }
  } else if (type === "application/x-www-form-urlencoded") {
    secret = new URLSearchParams(text).get("secret") ?? undefined;
  } else {
    throw new HttpProblem(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      'Send the secret as JSON ({"secret": "…"}, Content-Type: application/json) or as a form field (secret=…, Content-Type: application/x-www-form-urlencoded).',
    );
  }
  if (typeof secret !== "string" || secret === "")
    throw new HttpProblem(
      400,
      "INVALID_BODY",
      "The body has no secret: send the value of STEPWISE_HTTP_SECRET as `secret`.",
    );
  return secret;
}

/** The Origin check of a sign-in (no cookie is involved yet, so the handler's check does not run). */
function sameSite(request: Request, url: URL): void {
  const origin = request.headers.get("origin");
  const fetchSite = request.headers.get("sec-fetch-site");
  let cross = false;
  if (origin !== null && origin !== "null") {
    try {
      cross = new URL(origin).host !== url.host;
    } catch {
      cross = true;
    }
  } else if (
    origin === "null" ||
    (fetchSite !== null && fetchSite !== "same-origin" && fetchSite !== "none")
  ) {
    cross = true;
  }
  if (cross)
    throw new HttpProblem(403, "CROSS_SITE", `Signing in is only possible from a page of ${url.host}.`);
}

/** 204 with `Set-Cookie: stepwise_session=…`; 401 for a wrong secret (nothing set). */
export async function createSessionRoute({
  request,
  url,
  options,
}: RouteContext<ResolvedOptions>): Promise<Response> {
  sameSite(request, url);
  const keys = options.guard.sessions(); // 503 HTTP_SECRET_NOT_SET when the server has none
  const secret = await secretOf(request);
  if (!options.guard.isSecret(secret)) {
    throw new HttpProblem(
      401,
      "UNAUTHORIZED",
      "That is not the server's secret: give the value of STEPWISE_HTTP_SECRET the server was started with.",
    );
  }
  return new Response(null, {
    status: 204,
    headers: {
      "set-cookie": sessionCookie(keys.issue(), url.protocol === "https:"),
      "cache-control": "no-store",
    },
  });
}

/** 204, clearing the cookie. */
export async function deleteSessionRoute({ url }: RouteContext<ResolvedOptions>): Promise<Response> {
  return new Response(null, {
    status: 204,
    headers: {
      "set-cookie": sessionCookie(undefined, url.protocol === "https:"),
      "cache-control": "no-store",
    },
  });
}
