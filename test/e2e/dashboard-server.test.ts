/**
 * The dashboard's server side on real processes (`node dist/cli/index.js server` / `web`) and real
 * files: browser sessions (`POST /stepwise/session`: a cookie that is not the secret, HttpOnly,
 * SameSite=Strict; a wrong secret 401 and no cookie), the cookie authenticating guarded routes,
 * CSRF (a cookie-authenticated change from another origin, or without Origin and Sec-Fetch-Site,
 * is 403 CROSS_SITE; bearer requests are not affected), the dashboard's files with their security
 * headers, caching and SPA fallback, and `stepwise web` (loopback and a one-time secret without
 * STEPWISE_HTTP_SECRET, a non-loopback host refused, --open through the platform's opener).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SESSION_TTL_MS, sessionKeys } from "../../src/http/session.ts";
import { startServer } from "../../src/server/server.ts";
import { WEB_ROOT } from "../../src/server/static.ts";
import { createMemoryWorld } from "../../src/worlds/memory/index.ts";
import { pollFor } from "../helpers/e2e.ts";
import { REPO, spawnNode } from "../helpers/project.ts";

const CLI = join(REPO, "dist", "cli", "index.js");
const SECRET = randomBytes(24).toString("hex");
const WORKFLOW = "workflow//app.flows//flow";

let dir: string;
const children: ReturnType<typeof spawnNode>[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "stepwise-dash-"));
});
afterEach(() => {
  for (const child of children.splice(0)) child.child.kill("SIGKILL");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function spawnCli(args: string[], env: Record<string, string>) {
  const proc = spawnNode([CLI, ...args], dir, {
    STEPWISE_WORLD: "local",
    STEPWISE_DATA_DIR: join(dir, `data-${children.length}`),
    ...env,
  });
  children.push(proc);
  const url = await pollFor("the startup line", async () => {
    if (proc.child.exitCode !== null) throw new Error(`exited: ${proc.output.stderr}`);
    return /(?:listening on|dashboard is at) (http:\/\/[^/\s]+)/.exec(proc.output.stderr)?.[1];
  });
  return { url, proc };
}

function cookieOf(response: Response): string {
  return response.headers.get("set-cookie") ?? "";
}

describe("sessions and CSRF on `stepwise server`", () => {
  it("signs in with the secret (JSON or form), the cookie authenticates, changes need the same origin", async () => {
    const { url } = await spawnCli(["server", "--port", "0"], { STEPWISE_HTTP_SECRET: SECRET });
    const login = (body: string, type: string, headers: Record<string, string> = {}) =>
      fetch(`${url}/stepwise/session`, {
        method: "POST",
        headers: { "content-type": type, ...headers },
        body,
      });

    const wrong = await login(JSON.stringify({ secret: `${SECRET}x` }), "application/json");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect((await login(JSON.stringify({}), "application/json")).status).toBe(400);
    const crossLogin = await login(JSON.stringify({ secret: SECRET }), "application/json", {
      origin: "http://evil.example",
    });
    expect(crossLogin.status).toBe(403);
    expect(crossLogin.headers.get("set-cookie")).toBeNull();

    const ok = await login(JSON.stringify({ secret: SECRET }), "application/json");
    expect(ok.status).toBe(204);
    const setCookie = cookieOf(ok);
    expect(setCookie).toMatch(/^stepwise_session=v1\.[0-9a-z]+\.[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/");
    expect(setCookie).not.toContain("Secure"); // plain http
    expect(setCookie).not.toContain(SECRET);
    const cookie = setCookie.split(";")[0] as string;
    const form = await login(`secret=${encodeURIComponent(SECRET)}`, "application/x-www-form-urlencoded");
    expect(form.status).toBe(204);
    expect(cookieOf(form)).toMatch(/^stepwise_session=v1\./);

    // The cookie authenticates reads like the bearer secret; a forged one does not.
    expect((await fetch(`${url}/stepwise/runs`, { headers: { cookie } })).status).toBe(200);
    expect(
      (await fetch(`${url}/stepwise/runs`, { headers: { cookie: `${cookie.slice(0, -2)}AA` } })).status,
    ).toBe(401);
    expect(
      (await fetch(`${url}/stepwise/runs`, { headers: { cookie: `stepwise_session=${SECRET}` } })).status,
    ).toBe(401);

    // A change authenticated by the cookie must come from this origin.
    const start = (headers: Record<string, string>) =>
      fetch(`${url}/stepwise/runs`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ workflow: WORKFLOW, args: [] }),
      });
    for (const headers of [
      { cookie } as Record<string, string>,
      { cookie, origin: "http://evil.example" },
      { cookie, origin: "null" },
      { cookie, "sec-fetch-site": "cross-site" },
    ]) {
      const refused = await start(headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("CROSS_SITE");
    }
    const listed = (await (await fetch(`${url}/stepwise/runs`, { headers: { cookie } })).json()) as {
      runs: unknown[];
    };
    expect(listed.runs).toEqual([]);
    expect((await start({ cookie, origin: url })).status).toBe(201);
    expect((await start({ cookie, "sec-fetch-site": "same-origin" })).status).toBe(201);
    // Bearer requests are not affected, whatever their origin.
    expect((await start({ authorization: `Bearer ${SECRET}` })).status).toBe(201);
    expect((await start({ authorization: `Bearer ${SECRET}`, origin: "http://evil.example" })).status).toBe(
      201,
    );

    const out = await fetch(`${url}/stepwise/session`, { method: "DELETE" });
    expect(out.status).toBe(204);
    expect(cookieOf(out)).toMatch(/^stepwise_session=; .*Max-Age=0/);
  }, 60_000);

  it("a session expires, and a cookie made with another secret is refused", () => {
    const keys = sessionKeys(SECRET);
    const now = Date.UTC(2026, 0, 1);
    const value = keys.issue(now);
    expect(keys.verify(value, now + SESSION_TTL_MS - 1)).toBe(true);
    expect(keys.verify(value, now + SESSION_TTL_MS)).toBe(false);
    expect(sessionKeys(`${SECRET}-other`).verify(value, now)).toBe(false);
    expect(
      keys.verify(
        value.replace(
          /\.([0-9a-z]+)\./,
          (_m, at: string) => `.${(Number.parseInt(at, 36) + 1).toString(36)}.`,
        ),
        now,
      ),
    ).toBe(false);
  });

  it("serves the dashboard page (or says it was not built) with its security headers, not the API's 404", async () => {
    const { url } = await spawnCli(["server", "--port", "0"], { STEPWISE_HTTP_SECRET: SECRET });
    const page = await fetch(`${url}/runs/wrun_anything`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    const text = await page.text();
    if (existsSync(join(WEB_ROOT, "index.html")))
      expect(text).toBe(readFileSync(join(WEB_ROOT, "index.html"), "utf8"));
    else expect(text).toContain("npm run build");
    expect((await fetch(`${url}/stepwise/nothing`)).status).toBe(401);
  }, 60_000);
});

describe("the dashboard's files", () => {
  it("serves hashed assets for a year, index.html uncached, unknown app paths as index.html, nothing outside", async () => {
    const root = join(dir, "web");
    mkdirSync(join(root, "assets"), { recursive: true });
    writeFileSync(
      join(root, "index.html"),
      '<!doctype html><script type="module" src="/assets/index-AbCd1234.js"></script>',
    );
    writeFileSync(join(root, "assets", "index-AbCd1234.js"), "console.log('hi');");
    writeFileSync(join(root, "favicon.svg"), "<svg/>");
    writeFileSync(join(dir, "secret.txt"), "outside");
    const server = await startServer({
      world: createMemoryWorld(),
      port: 0,
      secret: SECRET,
      webRoot: root,
      graceMs: 100,
    });
    try {
      const index = await fetch(`${server.url}/`);
      expect(index.headers.get("cache-control")).toBe("no-cache");
      expect(index.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(index.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await index.text()).toContain("/assets/index-AbCd1234.js");
      const asset = await fetch(`${server.url}/assets/index-AbCd1234.js`);
      expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect((await fetch(`${server.url}/favicon.svg`)).headers.get("cache-control")).toBe("no-cache");
      const route = await fetch(`${server.url}/workflows/order`);
      expect(route.status).toBe(200);
      expect(await route.text()).toContain("<!doctype html>");
      expect((await fetch(`${server.url}/assets/missing-12345678.js`)).status).toBe(404);
      for (const path of ["/%2e%2e/secret.txt", "/..%2fsecret.txt", "/assets/..%2f..%2fsecret.txt"]) {
        const response = await fetch(`${server.url}${path}`);
        expect(await response.text(), path).not.toContain("outside");
      }
      expect((await fetch(`${server.url}/`, { method: "POST" })).status).toBe(405);
      const head = await fetch(`${server.url}/`, { method: "HEAD" });
      expect(head.status).toBe(200);
    } finally {
      await server.close();
    }
  }, 30_000);
});

describe("`stepwise web`", () => {
  it("without a secret serves loopback with a one-time secret it prints, and opens the browser with --open", async () => {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    const opened = join(dir, "opened.txt");
    writeFileSync(join(bin, "xdg-open"), `#!/bin/sh\necho "$@" > ${JSON.stringify(opened)}\n`);
    chmodSync(join(bin, "xdg-open"), 0o755);
    const env: Record<string, string> = { PATH: `${bin}:${process.env.PATH ?? ""}` };
    const { url, proc } = await spawnCli(["web", "--open"], { ...env, STEPWISE_HTTP_SECRET: "" });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const secret = /#secret=([0-9a-f]{64})/.exec(proc.output.stderr)?.[1] as string;
    expect(secret).toBeDefined();
    expect(proc.output.stderr).toContain("serving this machine only");
    expect((await fetch(`${url}/stepwise/runs`)).status).toBe(401);
    expect(
      (await fetch(`${url}/stepwise/runs`, { headers: { authorization: `Bearer ${secret}` } })).status,
    ).toBe(200);
    const login = await fetch(`${url}/stepwise/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ secret }),
    });
    expect(login.status).toBe(204);
    expect((await fetch(`${url}/`)).status).toBe(200);
    await pollFor("the browser to be opened", async () => (existsSync(opened) ? true : undefined));
    expect(readFileSync(opened, "utf8").trim()).toBe(`${url}/#secret=${secret}`);
  }, 60_000);

  it("refuses a non-loopback host without a secret; with one, serves it and says to sign in", async () => {
    const refused = spawnNode([CLI, "web", "--host", "0.0.0.0"], dir, {
      STEPWISE_HTTP_SECRET: "",
      STEPWISE_WORLD: "memory",
    });
    children.push(refused);
    expect(await refused.exited).not.toBe(0);
    expect(refused.output.stderr).toContain("STEPWISE_HTTP_SECRET");
    const { url, proc } = await spawnCli(["web", "--open"], {
      STEPWISE_HTTP_SECRET: SECRET,
      PATH: "/nonexistent",
    });
    expect(proc.output.stderr).toContain("sign in with STEPWISE_HTTP_SECRET");
    expect(proc.output.stderr).not.toContain(SECRET);
    await pollFor("the opener's failure", async () =>
      proc.output.stderr.includes("Could not open a browser") ? true : undefined,
    );
    expect(
      (await fetch(`${url}/stepwise/runs`, { headers: { authorization: `Bearer ${SECRET}` } })).status,
    ).toBe(200);
  }, 60_000);
});
