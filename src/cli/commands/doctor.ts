/**
 * `stepwise doctor`: checks the World the environment names (the local World's SQLite file, or the
 * postgres World's schema) without changing anything, prints what it found and what to do, and
 * exits 0 when it is healthy, 1 when it is not. The checks live in the library (`ops/doctor.ts`).
 */
import { formatDoctorReport, isHealthy, runDoctor } from "../../ops/doctor.ts";
import { print } from "../output.ts";

/** Checks and prints; returns 0 when healthy, 1 when not. */
export async function run(options: { dataDir?: string; json?: boolean }): Promise<number> {
  const report = await runDoctor(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
  const healthy = isHealthy(report);
  print(options.json ? JSON.stringify({ ...report, healthy }, null, 2) : formatDoctorReport(report));
  return healthy ? 0 : 1;
}
