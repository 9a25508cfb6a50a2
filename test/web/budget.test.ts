/**
 * The dashboard's JavaScript budget: what `npm run build` ships in dist/web/assets, gzipped,
 * stays within 250 KB (docs/dashboard.md gives the current figure). Needs `npm run build`.
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without type declarations
import { BUDGET_BYTES, shippedJsGzipBytes } from "../../scripts/web-budget.mjs";

describe("the dashboard's JavaScript", () => {
  it("is within its gzipped budget", () => {
    const bytes = (shippedJsGzipBytes as () => number)();
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(BUDGET_BYTES as number);
  });
});
