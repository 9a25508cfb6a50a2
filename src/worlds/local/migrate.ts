/**
 * Applies the local World's migrations (`migrations.ts`) when a database is opened, in one write
 * transaction, so two processes opening a fresh file at once migrate it once. The file's identity
 * (Stepwise's, empty, another application's, newer than this code) is read again inside that
 * transaction: what `checkBeforeOpening` saw may have changed since.
 */
import type Database from "better-sqlite3";
import { readIdentity, requireUsable } from "./file-check.ts";
import { APPLICATION_ID, LATEST_VERSION, MIGRATIONS } from "./migrations.ts";

/** Brings the schema up to date and marks the file as Stepwise's. Refuses a file that is not ours. */
export function migrate(db: Database.Database, file: string): void {
  const check = (): { version: number; marked: boolean } => {
    const identity = readIdentity(db);
    requireUsable(file, identity);
    return identity.kind === "stepwise" ? identity : { version: 0, marked: false };
  };
  const before = check();
  if (before.version === LATEST_VERSION && before.marked) return;
  db.transaction(() => {
    const { version } = check();
    for (const migration of MIGRATIONS) {
      if (migration.version > version) db.exec(migration.sql);
    }
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${LATEST_VERSION}`);
  }).immediate();
}
