/**
 * Migration 008: how an audited action ended. Entries are only ever inserted, so an outcome is a
 * second entry that refers to the first (`refers_to`), saying whether it succeeded or failed and
 * why (`detail`).
 */
export const name = "audit outcomes";

export const sql = (s: string): string => `
ALTER TABLE ${s}.audit ADD COLUMN refers_to text COLLATE "C";
ALTER TABLE ${s}.audit ADD COLUMN outcome   text; -- 'succeeded' | 'failed'
ALTER TABLE ${s}.audit ADD COLUMN detail    text;
`;
