/**
 * `withWorkflow(nextConfig)`: what it adds (a pre-loader for webpack with the target of each
 * compilation, Turbopack rules for server and client, `stepwise-workflows` external), how it
 * composes with other plugins in both orders (their webpack function chained, their
 * turbopack.rules kept), the function form of a config, idempotence, and the messages for
 * configs it cannot wrap. Also: `start()` given a "use workflow" function nobody compiled says
 * how to compile it.
 */
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { start } from "../../src/api/index.ts";
import {
  linkedStepwise,
  type NextConfigLike,
  type WebpackConfigFunction,
  type WebpackConfigLike,
  withWorkflow,
} from "../../src/next/config.ts";
import { makeProject, REPO } from "../helpers/project.ts";

interface LoaderRule {
  test: RegExp;
  enforce: string;
  use: Array<{ loader: string; options: { target: string } }>;
}

/** What Next does with a config's webpack function: call it for each compilation. */
function runWebpack(config: NextConfigLike, isServer: boolean, nextRuntime?: "nodejs" | "edge") {
  const webpackConfig: WebpackConfigLike = { module: { rules: [] } };
  const out = (config.webpack as WebpackConfigFunction)(webpackConfig, {
    isServer,
    nextRuntime,
  }) as WebpackConfigLike;
  return out;
}

const stepwiseRules = (config: WebpackConfigLike): LoaderRule[] =>
  (config.module?.rules ?? []).filter((rule): rule is LoaderRule =>
    JSON.stringify((rule as LoaderRule).use ?? []).includes("loader.js"),
  );

/** A plugin in the style of @next/mdx: chains the webpack function and adds a Turbopack rule. */
function withMdxLike(config: NextConfigLike): NextConfigLike {
  return {
    ...config,
    pageExtensions: ["js", "jsx", "mdx"],
    turbopack: { ...config.turbopack, rules: { ...config.turbopack?.rules, "*.mdx": ["mdx-loader"] } },
    webpack(webpackConfig, context) {
      webpackConfig.module?.rules?.push({ test: /\.mdx$/, use: ["mdx-loader"] });
      webpackConfig.mdx = true;
      return typeof config.webpack === "function" ? config.webpack(webpackConfig, context) : webpackConfig;
    },
  };
}

describe("withWorkflow", () => {
  it("adds the loader with the right target for each compilation, and keeps stepwise-workflows external", () => {
    const config = withWorkflow({ reactStrictMode: true });
    expect(config.reactStrictMode).toBe(true);
    expect(config.serverExternalPackages).toEqual(["stepwise-workflows"]);
    const targets = (isServer: boolean, runtime?: "nodejs" | "edge") =>
      stepwiseRules(runWebpack(config, isServer, runtime)).map((rule) => [
        rule.enforce,
        rule.use[0]?.options.target,
      ]);
    expect(targets(true, "nodejs")).toEqual([["pre", "server"]]);
    expect(targets(true, "edge")).toEqual([["pre", "client"]]);
    expect(targets(false)).toEqual([["pre", "client"]]);
    const rules = config.turbopack?.rules as Record<string, Array<{ loaders: LoaderRule["use"] }>>;
    expect(Object.keys(rules)).toEqual(
      expect.arrayContaining(["*.ts", "*.tsx", "*.js", "*.jsx", "*.mjs", "*.mts"]),
    );
    expect(rules["*.ts"]?.map((rule) => rule.loaders[0]?.options.target)).toEqual(["server", "client"]);
  });

  it("composes with other plugins in both orders, keeping their webpack function and rules", () => {
    for (const config of [
      withWorkflow(withMdxLike({ serverExternalPackages: ["sharp"] })),
      withMdxLike(withWorkflow({ serverExternalPackages: ["sharp"] })),
    ]) {
      const out = runWebpack(config, true, "nodejs");
      expect(out.mdx).toBe(true);
      expect(stepwiseRules(out)).toHaveLength(1);
      expect(JSON.stringify(out.module?.rules)).toContain("mdx-loader");
      expect(config.turbopack?.rules?.["*.mdx"]).toEqual(["mdx-loader"]);
      expect(config.turbopack?.rules?.["*.ts"]).toHaveLength(2);
      expect(config.serverExternalPackages).toEqual(["sharp", "stepwise-workflows"]);
      expect(config.pageExtensions).toEqual(["js", "jsx", "mdx"]);
    }
  });

  it("appends to a glob's existing Turbopack rules instead of replacing them", () => {
    const own = { loaders: ["my-ts-loader"], condition: "foreign" };
    const config = withWorkflow({ turbopack: { rules: { "*.ts": own }, resolveAlias: { a: "b" } } });
    const rules = config.turbopack?.rules?.["*.ts"] as unknown as unknown[];
    expect(rules[0]).toEqual(own);
    expect(rules).toHaveLength(3);
    expect(config.turbopack?.resolveAlias).toEqual({ a: "b" });
  });

  it("changes nothing when applied twice", () => {
    const once = withWorkflow({});
    const twice = withWorkflow(once);
    expect(stepwiseRules(runWebpack(twice, true, "nodejs"))).toHaveLength(1);
    expect(twice.turbopack?.rules?.["*.ts"]).toHaveLength(2);
    expect(twice.serverExternalPackages).toEqual(["stepwise-workflows"]);
  });

  it("wraps the function form of a config, async too", async () => {
    const wrapped = withWorkflow(async (phase: string) => ({ env: { PHASE: phase } }) as NextConfigLike);
    const config = await wrapped("phase-production-build", { defaultConfig: {} });
    expect(config.env).toEqual({ PHASE: "phase-production-build" });
    expect(stepwiseRules(runWebpack(config, true, "nodejs"))).toHaveLength(1);
  });

  it("says what to do with a config it cannot wrap", () => {
    expect(() => withWorkflow(undefined as unknown as NextConfigLike)).toThrow(
      /withWorkflow\(\): expected a Next\.js config object .*got undefined\. Write export default withWorkflow\(nextConfig\)/,
    );
    expect(() => withWorkflow({ webpack: "yes" as unknown as WebpackConfigFunction })).toThrow(
      /the config's webpack is a string, not a function/,
    );
  });
});

describe("a linked stepwise-workflows", () => {
  it("is found (Next would bundle it), an installed copy is not", () => {
    const linked = makeProject({});
    const installed = makeProject({});
    try {
      // makeProject links node_modules/stepwise-workflows to this checkout, as npm link does.
      expect(linkedStepwise(linked.dir)).toBe(REPO.replace(/\/$/, ""));
      const copy = join(installed.dir, "node_modules", "stepwise-workflows");
      rmSync(copy);
      mkdirSync(copy);
      cpSync(join(REPO, "package.json"), join(copy, "package.json"));
      expect(linkedStepwise(installed.dir)).toBeUndefined();
    } finally {
      linked.remove();
      installed.remove();
    }
  });
});

describe("start() with a workflow nobody compiled", () => {
  it("says the function was not compiled and how to compile it in Next.js, Vite and Node", async () => {
    async function placeOrder(id: string) {
      "use workflow";
      return id;
    }
    const error = await start(placeOrder, ["o-1"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('the function placeOrder, which says "use workflow" but was not compiled');
    expect(message).toContain('withWorkflow() from "stepwise-workflows/next"');
    expect(message).toContain('stepwise() from "stepwise-workflows/vite"');
    expect(message).toContain("--import stepwise-workflows/register");
  });

  it("keeps the plain message for a function without the directive", async () => {
    async function plain() {
      return 1;
    }
    await expect(start(plain, [])).rejects.toThrow(/the function plain, which is not a workflow/);
  });
});
