/**
 * `stepwise web [files…]`: the dashboard for a person at this machine — the same server as
 * `stepwise server` (dashboard, run API, worker protocol), on 127.0.0.1 and a free port by
 * default, its URL printed; `--open` opens it in a browser. With STEPWISE_HTTP_SECRET set, that
 * secret guards it as it guards the server. Without one, it serves on loopback only (a
 * non-loopback `--host` is refused) and guards every route with a one-time secret made for this
 * process: it is printed once, and the printed URL carries it in its fragment (`#secret=…`, which
 * the browser never sends to a server) so the dashboard signs in with it. docs/security.md.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { MIN_SECRET_LENGTH, SECRET_ENV } from "../../http/auth.ts";
import { note, UsageError } from "../output.ts";
import { run as runServer } from "./server.ts";

export interface WebCommandOptions {
  port?: number;
  host?: string;
  open?: boolean;
}

/** Whether `host` is this machine only (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}

/** The command that opens a URL in the default browser on this platform. */
function opener(url: string): { command: string; args: string[] } {
  if (process.platform === "darwin") return { command: "open", args: [url] };
  if (process.platform === "win32") return { command: "cmd", args: ["/c", "start", '""', url] };
  return { command: "xdg-open", args: [url] };
}

/** Opens `url` in a browser; says so when no opener is there. */
function openBrowser(url: string, shown: string): Promise<void> {
  const { command, args } = opener(url);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "ignore", detached: true });
    child.once("error", () => {
      note(`Could not open a browser (${command} is not available here): open ${shown} yourself.`);
      resolve();
    });
    child.once("spawn", () => {
      child.unref();
      resolve();
    });
  });
}

export async function run(files: string[], options: WebCommandOptions): Promise<number> {
  const configured = process.env[SECRET_ENV];
  const host = options.host ?? "127.0.0.1";
  const haveSecret = configured !== undefined && configured.length >= MIN_SECRET_LENGTH;
  if (!haveSecret && !isLoopback(host)) {
    throw new UsageError(
      `stepwise web serves ${host} only with a secret: set ${SECRET_ENV} (at least ${MIN_SECRET_LENGTH} characters, e.g. \`export ${SECRET_ENV}=$(openssl rand -hex 32)\`), or leave out --host to serve this machine only.`,
    );
  }
  const secret = haveSecret ? configured : randomBytes(32).toString("hex");
  return runServer(files, {
    port: options.port ?? 0,
    host,
    web: {
      secret,
      async announce(url, used) {
        const page = `${url}/`;
        if (haveSecret) {
          note(`stepwise web: the dashboard is at ${page} (sign in with ${SECRET_ENV}).`);
        } else {
          note(
            `stepwise web: the dashboard is at ${page}#secret=${used}\n  ${SECRET_ENV} is not set: serving this machine only (${host}), guarded by a one-time secret made for this process (${used}); it ends with the process. Set ${SECRET_ENV} to serve other machines.`,
          );
        }
        if (options.open) await openBrowser(haveSecret ? page : `${page}#secret=${used}`, page);
      },
    },
  });
}
