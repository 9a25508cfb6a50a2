/** `stepwise migrate`: brings the PostgreSQL World's schema up to date, for operators. */
import { parseArgs } from "node:util";
import { loadPostgres } from "../../worlds/postgres-loader.ts";
import { print } from "../output.ts";

export const help = `Usage: npx stepwise migrate [options]

Applies the PostgreSQL World's schema migrations to the database at STEPWISE_POSTGRES_URL (or
--url), in one transaction, under an advisory lock (safe while workers start). Workers also
migrate at start; this command is for operators who prefer to do it as a deployment step. A
database whose schema is newer than this version of Stepwise is refused.

Options:
  --url <url>       postgres://user:password@host:5432/database (default: STEPWISE_POSTGRES_URL)
  --schema <name>   the schema holding Stepwise's tables (default: STEPWISE_POSTGRES_SCHEMA or "stepwise")
  -h, --help        show this help`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { url: { type: "string" }, schema: { type: "string" } },
  });
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
