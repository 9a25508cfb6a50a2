/**
 * What `npx stepwise doctor` does, as a library: checks the World the environment names (the local
 * World's SQLite file, or the postgres World's server and schema) without changing anything, and
 * prints what it found in words, with what to do. The checks themselves belong to each World
 * (`worlds/local/diagnose.ts`, `worlds/postgres/diagnose.ts`); the memory World keeps nothing to
 * check, and other Worlds are checked with their own tools.
 */
import { join, resolve } from "node:path";
import { ConfigError } from "../errors/runtime.ts";
import { type HealthReport, isHealthy } from "../worlds/health.ts";
import { loadPostgres } from "../worlds/postgres-loader.ts";

export { type HealthFinding, type HealthReport, isHealthy } from "../worlds/health.ts";

export interface DoctorOptions {
  /** Which World: "local", "memory", "postgres". Default STEPWISE_WORLD, else "local". */
  world?: string;
  /**
   * The local World's data directory. Default: the one the local World opens (STEPWISE_DATA_DIR,
   * else `.stepwise` at the project root, else in the current directory).
   */
  dataDir?: string;
  /** The postgres World's connection string. Default STEPWISE_POSTGRES_URL. */
  connectionString?: string;
  /** The postgres World's schema. Default STEPWISE_POSTGRES_SCHEMA, else "stepwise". */
  schema?: string;
}

/**
 * Checks the World and reports what it found; changes nothing. `ConfigError` for a World doctor
 * cannot check (a Stepwise server, a World module) or a postgres World without a connection string.
 */
export async function runDoctor(
  options: DoctorOptions = {},
  env: Record<string, string | undefined> = process.env,
): Promise<HealthReport> {
  const world = options.world ?? (env.STEPWISE_WORLD?.trim() || "local");
  switch (world) {
    case "local": {
      const { diagnoseLocalFile } = await import("../worlds/local/diagnose.ts");
      const { DATABASE_FILE } = await import("../worlds/local/database.ts");
      const { resolveDataDir } = await import("../worlds/local/data-dir.ts");
      const dataDir = options.dataDir ?? resolveDataDir(env).dir;
      return diagnoseLocalFile(join(resolve(dataDir), DATABASE_FILE));
    }
    case "memory":
      return {
        world: "memory",
        target: "this process's memory",
        findings: [
          {
            check: "storage",
            status: "ok",
            summary: "The memory World keeps nothing at rest, so there is nothing to check.",
          },
        ],
      };
    case "postgres": {
      const { diagnosePostgres } = await loadPostgres("npx stepwise doctor on the postgres World");
      const connectionString = options.connectionString ?? env.STEPWISE_POSTGRES_URL;
      const schema = options.schema ?? env.STEPWISE_POSTGRES_SCHEMA;
      return diagnosePostgres({
        ...(connectionString === undefined ? {} : { connectionString }),
        ...(schema === undefined ? {} : { schema }),
      });
    }
    default:
      throw new ConfigError(
        `npx stepwise doctor checks the local World (a SQLite file) and the postgres World; STEPWISE_WORLD=${world} is neither. Check that World with its own tools (for a Stepwise server, run doctor where the server runs, with its environment).`,
      );
  }
}

const LABELS = { ok: "ok", warning: "warning", problem: "PROBLEM" } as const;

/** The report as text: one line per finding, details and advice indented, and a verdict. */
export function formatDoctorReport(report: HealthReport): string {
  const width = Math.max(...report.findings.map((finding) => finding.check.length), 5);
  const indent = " ".repeat(2 + 8 + 1 + width + 2);
  const lines = [`Stepwise doctor: the ${report.world} World, ${report.target}`, ""];
  for (const finding of report.findings) {
    lines.push(`  ${LABELS[finding.status].padEnd(8)} ${finding.check.padEnd(width)}  ${finding.summary}`);
    for (const detail of finding.details ?? []) lines.push(`${indent}| ${detail}`);
    if (finding.advice !== undefined && finding.status !== "ok")
      lines.push(`${indent}What to do: ${finding.advice}`);
    else if (finding.advice !== undefined) lines.push(`${indent}${finding.advice}`);
  }
  const problems = report.findings.filter((finding) => finding.status === "problem").length;
  const warnings = report.findings.filter((finding) => finding.status === "warning").length;
  lines.push("");
  if (isHealthy(report)) {
    lines.push(
      warnings === 0 ? "Healthy." : `Healthy, with ${warnings} warning${warnings === 1 ? "" : "s"} above.`,
    );
  } else {
    lines.push(
      `Not healthy: ${problems} problem${problems === 1 ? "" : "s"} above. Stepwise refuses to use this World until ${problems === 1 ? "it is" : "they are"} fixed; see "What to do".`,
    );
  }
  return lines.join("\n");
}
