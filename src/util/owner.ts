/**
 * Worker identities used as lease owners: `host/pid/random/scope`. The scope names where the pid
 * means something: a short hash of the kernel's boot id and the process's PID namespace. A World
 * whose workers all share one machine (the local SQLite World) may take over a dead worker's
 * leases at once instead of waiting for them to expire, but only when that is certain: the owner's
 * scope equals ours (same boot, same PID namespace, so `kill(pid, 0)` answers for it) and its pid
 * no longer exists. Two containers sharing a volume and a hostname have different PID namespaces,
 * so neither takes the other for dead. Owner ids without a scope (written by older versions, or on
 * platforms where the scope cannot be known: anything but Linux) are never taken for dead; their
 * leases run out like any other.
 */
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { bootId, pidNamespace } from "./host-identity.ts";

let cachedScope: string | null | undefined;

/**
 * Where this process's pid is meaningful: 12 hex digits of a hash of the boot id and the PID
 * namespace, or undefined when either cannot be known (not Linux, no /proc).
 */
export function ownerScope(): string | undefined {
  if (cachedScope === undefined) {
    const boot = bootId();
    const namespace = pidNamespace();
    cachedScope =
      boot === undefined || namespace === undefined
        ? null
        : createHash("sha256")
            .update(`stepwise/owner-scope/v1\0${boot}\0${namespace}`)
            .digest("hex")
            .slice(0, 12);
  }
  return cachedScope ?? undefined;
}

/** A fresh owner id for this process: `host/pid/random/scope` (no scope where it cannot be known). */
export function newOwnerId(): string {
  const scope = ownerScope();
  const id = `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;
  return scope === undefined ? id : `${id}/${scope}`;
}

/**
 * True only when `owner` certainly names a process that no longer exists: its scope is ours (same
 * boot, same PID namespace) and no process has its pid. False whenever that cannot be proven.
 */
export function isOwnerDeadOnThisHost(owner: string): boolean {
  const parts = owner.split("/");
  if (parts.length !== 4) return false;
  const [host, pidText, , scope] = parts;
  const ours = ownerScope();
  if (ours === undefined || scope !== ours || host !== hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
