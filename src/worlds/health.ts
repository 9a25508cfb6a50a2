/**
 * What a World's health check (`npx stepwise doctor`) reports: one finding per thing checked, in
 * words a user understands, with what to do when something is wrong. Each World that can be checked
 * produces these (`worlds/local/diagnose.ts`, `worlds/postgres/diagnose.ts`); `ops/doctor.ts` picks
 * the World and prints them.
 */

/** `ok`: fine; `warning`: worth knowing, nothing is broken; `problem`: the World cannot be trusted or used. */
export type HealthStatus = "ok" | "warning" | "problem";

export interface HealthFinding {
  /** What was checked, one or two words ("integrity", "schema"). */
  check: string;
  status: HealthStatus;
  /** What was found, one sentence. */
  summary: string;
  /** Supporting lines (SQLite's own messages, say), shown indented. */
  details?: string[];
  /** What to do about it, for warnings and problems. */
  advice?: string;
}

/** A World's health: what was checked (a file, a server) and what was found. */
export interface HealthReport {
  /** The World's name: "local", "postgres", "memory", … */
  world: string;
  /** What was checked: a file path, a server and schema. */
  target: string;
  findings: HealthFinding[];
}

/** True when no finding is a problem. */
export function isHealthy(report: HealthReport): boolean {
  return report.findings.every((finding) => finding.status !== "problem");
}
