/**
 * The handler's small parts on their own: the body schemas (and the types inferred from them),
 * the plain-JSON view of rich values, path parameter decoding, and option checking.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type ResumeHookBody,
  resumeHookBody,
  type StartRunBody,
  startRunBody,
} from "../../src/http/bodies.ts";
import { toJsonValue } from "../../src/http/json-value.ts";
import { chunkLine } from "../../src/http/ndjson.ts";
import { normalizeBasePath, resolveOptions } from "../../src/http/options.ts";
import { HttpProblem } from "../../src/http/problem.ts";
import { decodeParam } from "../../src/http/router.ts";

describe("body schemas", () => {
  it("infer their types from the schema", () => {
    expectTypeOf<StartRunBody>().toEqualTypeOf<{
      workflow: string;
      args?: unknown[] | undefined;
      id?: string | undefined;
    }>();
    expectTypeOf<ResumeHookBody>().toEqualTypeOf<{ payload: unknown }>();
  });

  it("are Standard Schemas that list every issue with its path", async () => {
    expect(await startRunBody["~standard"].validate({ workflow: "a", args: [1] })).toEqual({
      value: { workflow: "a", args: [1] },
    });
    const outcome = await startRunBody["~standard"].validate({ args: {}, more: 1 });
    expect(outcome.issues?.map((issue) => issue.path)).toEqual([["more"], ["workflow"], ["args"]]);
    expect(await resumeHookBody["~standard"].validate({ payload: null })).toEqual({
      value: { payload: null },
    });
    expect((await resumeHookBody["~standard"].validate({})).issues?.[0]?.message).toBe(
      "required field is missing",
    );
  });
});

describe("toJsonValue", () => {
  it("writes rich values as plain JSON", () => {
    const error = new TypeError("bad", { cause: new Error("root") });
    (error as TypeError & { code: string }).code = "E_BAD";
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    expect(
      toJsonValue({
        date: new Date(0),
        invalid: new Date(Number.NaN),
        big: 2n ** 70n,
        map: new Map([["a", 1]]),
        objectKeys: new Map<unknown, unknown>([[1, "one"]]),
        set: new Set([1, 2]),
        bytes: new Uint8Array([1, 2, 3]),
        buffer: new Uint8Array([255]).buffer,
        floats: new Float64Array([0.5]),
        url: new URL("https://example.com/a?b=1"),
        search: new URLSearchParams("a=1&b=2"),
        regexp: /x+/gi,
        headers: new Headers({ "X-A": "1" }),
        error,
        specials: [Number.NaN, Number.POSITIVE_INFINITY, -0, undefined],
        skipped: undefined,
        cyclic,
      }),
    ).toEqual({
      date: "1970-01-01T00:00:00.000Z",
      invalid: null,
      big: "1180591620717411303424",
      map: { a: 1 },
      objectKeys: [[1, "one"]],
      set: [1, 2],
      bytes: { base64: "AQID" },
      buffer: { base64: "/w==" },
      floats: [0.5],
      url: "https://example.com/a?b=1",
      search: "a=1&b=2",
      regexp: "/x+/gi",
      headers: { "x-a": "1" },
      error: { name: "TypeError", message: "bad", code: "E_BAD", cause: { name: "Error", message: "root" } },
      specials: [null, null, 0, null],
      cyclic: { name: "loop", self: "[Circular]" },
    });
  });

  it("keeps shared (non-cyclic) references", () => {
    const shared = { n: 1 };
    expect(toJsonValue([shared, shared])).toEqual([{ n: 1 }, { n: 1 }]);
  });

  it("makes NDJSON lines for values and bytes", () => {
    expect(chunkLine(3, { a: 1n })).toBe('{"index":3,"value":{"a":"1"}}\n');
    expect(chunkLine(4, new Uint8Array([104, 105]))).toBe('{"index":4,"base64":"aGk="}\n');
  });
});

describe("path parameters", () => {
  const refused = (name: string, raw: string) => {
    try {
      decodeParam(name, raw);
    } catch (error) {
      return error instanceof HttpProblem && error.status === 400;
    }
    return false;
  };

  it("decode names and refuse anything that could name another place", () => {
    expect(decodeParam("runId", "wrun_01ABC")).toBe("wrun_01ABC");
    expect(decodeParam("name", "logs%3Aout")).toBe("logs:out");
    for (const raw of [
      "..",
      ".",
      "%2e%2e",
      "%2E",
      "a%2Fb",
      "a%5Cb",
      "%00",
      "a%0Ab",
      "%7F",
      "%zz",
      "%",
      "",
      "x".repeat(1025),
    ]) {
      expect(refused("name", raw), raw).toBe(true);
    }
  });

  it("let hook tokens hold slashes and dots, but not control characters", () => {
    expect(decodeParam("token", "order%2F7")).toBe("order/7");
    expect(decodeParam("token", "%2e%2e")).toBe("..");
    expect(refused("token", "a%00")).toBe(true);
  });
});

describe("options", () => {
  it("normalize the base path and check the limits", () => {
    expect(normalizeBasePath("/stepwise/")).toBe("/stepwise");
    expect(normalizeBasePath("api/stepwise")).toBe("/api/stepwise");
    expect(normalizeBasePath("/")).toBe("");
    expect(resolveOptions({}).maxBodyBytes).toBe(1024 * 1024);
    expect(() => resolveOptions({ maxBodyBytes: -1 })).toThrow(/maxBodyBytes/);
    expect(() => resolveOptions({ maxWaitMs: 1.5 })).toThrow(/maxWaitMs/);
  });
});
