/** `stepwise migrate`: brings the PostgreSQL World's schema up to date, for operators. */
import { loadPostgres } from "../../worlds/postgres-loader.ts";
import { print } from "../output.ts";

/** Migrates the schema (`values` from the command line: `--url`, `--schema`); returns the exit code. */
export async function run(values: { url?: string; schema?: string }): Promise<number> {
  const schema = values.schema ?? process.env.STEPWISE_POSTGRES_SCHEMA;
  const { migrate } = await loadPostgres("npx stepwise migrate");
  const result = await migrate(values.url, schema === undefined ? {} : { schema });
  print(
    result.from === result.to
      ? `schema "${result.schema}" is up to date (version ${result.to})`
      : `migrated schema "${result.schema}" from version ${result.from} to ${result.to}`,
  );
  return 0;
}
