/**
 * Migration 012: workflow bundles. Runs are pinned to the workflow code they started with: each
 * version of a workflow bundle is stored once under the hash of its code (`World.bundles`), and a
 * run's `run_created` event names it (no change to the runs table: its data is jsonb).
 */
export const name = "workflow bundles";

export const sql = (s: string): string => `
CREATE TABLE ${s}.bundles (
  hash         text COLLATE "C" PRIMARY KEY,
  filename     text NOT NULL,
  workflow_ids text[] NOT NULL,
  code         bytea NOT NULL,
  created_at   bigint NOT NULL
);
`;
