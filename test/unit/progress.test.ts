/**
 * Progress output (`cli/progress.ts`): on a terminal, one line redrawn in place (carriage return,
 * erase line) and erased at the end; elsewhere, plain lines, each text once, never a control
 * character a log or a script would have to strip.
 */
import { describe, expect, it } from "vitest";
import { type ProgressStream, startProgress } from "../../src/cli/progress.ts";

function stream(isTTY: boolean): ProgressStream & { text: string } {
  const out = {
    isTTY,
    columns: 40,
    text: "",
    write(chunk: string): boolean {
      out.text += chunk;
      return true;
    },
  };
  return out;
}

describe("progress", () => {
  it("prints plain lines when stderr is not a terminal, each text once", () => {
    const out = stream(false);
    const progress = startProgress("wrun_1 started", out);
    progress.update("wrun_1 running step charge (attempt 1)");
    progress.update("wrun_1 running step charge (attempt 1)");
    progress.update("wrun_1 sleeping until 2030-01-01T00:00:00Z");
    progress.stop("done");
    expect(out.text).toBe(
      "wrun_1 started\nwrun_1 running step charge (attempt 1)\nwrun_1 sleeping until 2030-01-01T00:00:00Z\ndone\n",
    );
  });

  it("redraws one line on a terminal, shortened to its width, and erases it at the end", () => {
    const out = stream(true);
    const progress = startProgress("compiling 3 entries…", out);
    progress.update("a text far longer than the forty columns this terminal has");
    progress.stop();
    const draws = out.text.split("\r\x1b[2K").filter((part) => part !== "");
    expect(draws[0]).toMatch(/^. compiling 3 entries…$/);
    expect(draws[1]?.length).toBeLessThanOrEqual(39);
    expect(draws[1]).toMatch(/…$/);
    expect(out.text.endsWith("\r\x1b[2K")).toBe(true);
    expect(out.text).not.toContain("\n");
  });
});
