/**
 * `stepwise doctor`: checks the World the environment names (the local World's SQLite file, or the
 * postgres World's schema) without changing anything, prints what it found and what to do, and
 * exits 0 when it is healthy, 1 when it is not. The checks live in the library (`ops/doctor.ts`).
 */
import { parseArgs } from "node:util";
import { formatDoctorReport, isHealthy, runDoctor } from "../../ops/doctor.ts";
import { print } from "../output.ts";

export const help = `Usage: npx stepwise doctor [options]

Checks the World that STEPWISE_WORLD names, and changes nothing:

  local     the SQLite file in STEPWISE_DATA_DIR (default ./.stepwise): that it is a database and
            Stepwise's, its schema version, SQLite's full integrity_check, the WAL and free space
  postgres  the server at STEPWISE_POSTGRES_URL: that it answers, the schema version and tables
            (PostgreSQL checks its own storage: see pg_amcheck)

It can run while Stepwise processes use the World. Exit code 0 when healthy, 1 when not.

Options:
  --data-dir <dir>  the local World's data directory (default: STEPWISE_DATA_DIR or ./.stepwise)
  --json            machine-readable output
  -h, --help        show this help`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { "data-dir": { type: "string" }, json: { type: "boolean" } },
  });
  const dataDir = values["data-dir"];
  const report = await runDoctor(dataDir === undefined ? {} : { dataDir });
  const healthy = isHealthy(report);
  print(values.json ? JSON.stringify({ ...report, healthy }, null, 2) : formatDoctorReport(report));
  return healthy ? 0 : 1;
}
