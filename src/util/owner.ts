/**
 * Worker identities used as lease owners: `host/pid/random`. A World whose workers all share one
 * machine (the local SQLite World) can tell from an owner id whether its process is still alive and
 * take over a dead worker's runs at once instead of waiting for the lease to expire.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

export function newOwnerId(): string {
  return `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;
}

/** True when `owner` names a process on this host that no longer exists. */
export function isOwnerDeadOnThisHost(owner: string): boolean {
  const [host, pidText] = owner.split("/");
  if (host !== hostname() || pidText === undefined) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
