/**
 * The engine server executes no workflow code, so it must not load what executing takes: the
 * worker, the sandbox and esbuild (a process that serves a thousand long polls pays for every
 * module it holds). A real Node process imports the built server, with a resolve hook that lists
 * every module it loads; the worker's and the sandbox's modules must not be among them. Before
 * they were loaded lazily, the process setup (`process/process.ts`) and the client's `upgradeRun`
 * brought them in, 15 MB of an idle server's 70.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Every module URL (outside node:) that importing `entry` loads, in a fresh Node process. */
function modulesLoadedBy(entry: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), "stepwise-footprint-"));
  writeFileSync(
    join(dir, "hooks.mjs"),
    `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (!resolved.url.startsWith("node:")) process.stderr.write("LOADED " + resolved.url + "\\n");
  return resolved;
}\n`,
  );
  writeFileSync(
    join(dir, "register.mjs"),
    `import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n`,
  );
  const result = spawnSync(
    process.execPath,
    [
      "--import",
      pathToFileURL(join(dir, "register.mjs")).href,
      "-e",
      `await import(${JSON.stringify(entry)})`,
    ],
    { encoding: "utf8" },
  );
  expect(result.status, result.stderr).toBe(0);
  return [...result.stderr.matchAll(/^LOADED (.+)$/gm)].map((match) => match[1] ?? "");
}

describe("the engine server's footprint", () => {
  it("loads neither the worker, nor the sandbox, nor esbuild", () => {
    const loaded = modulesLoadedBy(pathToFileURL(join(ROOT, "dist/server/server.js")).href);
    // It does load what it serves: the handler, the protocol, the client core.
    expect(loaded.some((url) => url.endsWith("/dist/server/protocol-handler.js"))).toBe(true);
    expect(loaded.some((url) => url.endsWith("/dist/client/client.js"))).toBe(true);
    const executing = loaded.filter((url) =>
      /\/dist\/runtime\/(worker|sandbox|machine|driver)\.js$|\/node_modules\/esbuild\/|\/dist\/compiler\//.test(
        url,
      ),
    );
    expect(executing).toEqual([]);
  });

  /**
   * The largest young generation a fresh Node process reaches while it keeps a burst of small
   * objects alive across scavenges (what a thousand waiting requests look like to V8), with or
   * without the server command's `keepYoungGenerationSmall()` first, under `flags`.
   */
  function youngGenerationPeakMb(keepSmall: boolean, flags: string[] = []): number {
    const script = `
      import { getHeapSpaceStatistics } from "node:v8";
      const { keepYoungGenerationSmall } = await import(${JSON.stringify(pathToFileURL(join(ROOT, "dist/cli/young-generation.js")).href)});
      if (${keepSmall}) keepYoungGenerationSmall();
      const newSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === "new_space").space_size;
      const held = [];
      let peak = newSpace();
      for (let i = 0; i < 400_000; i++) {
        held.push({ i, name: "request " + i, headers: { a: i } });
        if (i % 1000 === 0) peak = Math.max(peak, newSpace());
      }
      console.log(JSON.stringify({ peak: peak / 1048576, held: held.length }));`;
    const result = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", script], {
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    expect(result.status, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { peak: number }).peak;
  }

  it("keeps V8's young generation at its starting size, unless the user sized it", () => {
    const grown = youngGenerationPeakMb(false);
    const kept = youngGenerationPeakMb(true);
    // Left alone, V8 doubles the space under a burst of survivors (to 32 MB on 64-bit Node 20);
    // the server's setting holds it where it started.
    expect(grown).toBeGreaterThanOrEqual(2 * kept);
    expect(kept).toBeLessThanOrEqual(16);
    // A user's own choice wins: with --semi-space-growth-factor given, the setting does nothing.
    expect(youngGenerationPeakMb(true, ["--semi-space-growth-factor=2"])).toBeGreaterThanOrEqual(2 * kept);
  });
});
