import { configDefaults, defineConfig } from "vitest/config";

/**
 * What `npm run test:quick` (TEST_QUICK=1) leaves out: the tests that need a PostgreSQL server,
 * kill processes to inject faults, fuzz, drive a browser, or run many processes at once. They all run in `npm test`
 * and in CI.
 */
const SLOW = [
  "test/e2e/**", // real processes: kills, chaos, CLI, encryption at rest on both Worlds
  "test/worlds/postgres*", // a PostgreSQL server
  "test/worlds/lease-clock.test.ts", // local and PostgreSQL
  "test/worlds/local-multiprocess.test.ts", // many processes on one file, SIGKILLs
  "test/worlds/local-storage-errors.test.ts", // child processes in namespaces, a full tmpfs
  "test/http/fuzz.test.ts", // thousands of random requests
  "test/web/**", // the dashboard in real Chromium, over a real server and worker (and its built dist/web)
];

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    exclude: process.env.TEST_QUICK ? [...configDefaults.exclude, ...SLOW] : configDefaults.exclude,
    setupFiles: ["test/helpers/quiet-notices.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
