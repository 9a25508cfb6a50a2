/**
 * The postgres World's schema history: numbered migrations of plain SQL, applied in order by
 * `migrate.ts`. A migration is never edited once released; a change is a new file with the next
 * number. Each takes the quoted name of the World's schema.
 */
import * as m001 from "./001-schema.ts";
import * as m002 from "./002-append.ts";
import * as m003 from "./003-audit.ts";
import * as m004 from "./004-quiet-appends.ts";
import * as m005 from "./005-payload-budget.ts";
import * as m006 from "./006-lease-expiry-index.ts";
import * as m007 from "./007-claims-by-workflow.ts";
import * as m008 from "./008-audit-outcomes.ts";
import * as m009 from "./009-run-end-and-notices.ts";
import * as m010 from "./010-events.ts";
import * as m011 from "./011-restarts.ts";
import * as m012 from "./012-bundles.ts";
import * as m013 from "./013-run-versions.ts";
import * as m014 from "./014-claims-by-version.ts";

export interface Migration {
  version: number;
  name: string;
  sql(schema: string): string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: m001.name, sql: m001.sql },
  { version: 2, name: m002.name, sql: m002.sql },
  { version: 3, name: m003.name, sql: m003.sql },
  { version: 4, name: m004.name, sql: m004.sql },
  { version: 5, name: m005.name, sql: m005.sql },
  { version: 6, name: m006.name, sql: m006.sql },
  { version: 7, name: m007.name, sql: m007.sql },
  { version: 8, name: m008.name, sql: m008.sql },
  { version: 9, name: m009.name, sql: m009.sql },
  { version: 10, name: m010.name, sql: m010.sql },
  { version: 11, name: m011.name, sql: m011.sql },
  { version: 12, name: m012.name, sql: m012.sql },
  { version: 13, name: m013.name, sql: m013.sql },
  { version: 14, name: m014.name, sql: m014.sql },
];

export const LATEST_VERSION: number = MIGRATIONS.reduce((latest, m) => Math.max(latest, m.version), 0);
