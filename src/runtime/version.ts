/**
 * The replay and storage format version. A run records the version it was created with; a worker
 * leaves runs from newer versions alone instead of misreading them. Raise it only together with a
 * replay-compatibility fixture of the old format (see test/replay-compat).
 */
export const SPEC_VERSION = 1;
