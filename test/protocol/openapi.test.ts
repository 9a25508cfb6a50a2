/**
 * docs/protocol.openapi.json is the protocol as the code defines it: the test fails when the file
 * differs from what `openApiDocument()` makes now (rewrite it with `UPDATE_OPENAPI=1 npx vitest
 * run test/protocol/openapi.test.ts`, then `npx biome format --write docs/protocol.openapi.json`),
 * when it is not a valid OpenAPI 3.1 document for a JSON Schema 2020-12 validator, or when the
 * server has an operation the file lacks (or the reverse).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/protocol/openapi.ts";
import { operations } from "../../src/protocol/operations.ts";

const FILE = fileURLToPath(new URL("../../docs/protocol.openapi.json", import.meta.url));

describe("the OpenAPI file", () => {
  it("is the document the code makes", () => {
    const made = openApiDocument();
    if (process.env.UPDATE_OPENAPI === "1") writeFileSync(FILE, `${JSON.stringify(made, null, 2)}\n`);
    expect(JSON.parse(readFileSync(FILE, "utf8"))).toEqual(made);
  });

  it("names every operation the server serves, and nothing else", () => {
    const document = JSON.parse(readFileSync(FILE, "utf8")) as { paths: Record<string, unknown> };
    const served = Object.values(operations).map((operation) => `/stepwise/protocol/v1/${operation.path}`);
    const described = Object.keys(document.paths).filter(
      (path) => path.startsWith("/stepwise/protocol/v1/") && !path.endsWith("/notifications"),
    );
    expect(described.sort()).toEqual(served.sort());
  });

  it("compiles: every schema is valid JSON Schema 2020-12 and every $ref resolves", () => {
    const document = JSON.parse(readFileSync(FILE, "utf8")) as {
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: { content: Record<string, { schema: unknown }> };
            responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
          }
        >
      >;
      components: { schemas: Record<string, unknown> };
    };
    const ajv = new Ajv2020.default({ strict: false });
    ajv.addSchema({ $id: "protocol", components: document.components });
    let compiled = 0;
    const rewrite = (schema: unknown) =>
      JSON.parse(JSON.stringify(schema).replaceAll('"#/components', '"protocol#/components'));
    for (const methods of Object.values(document.paths)) {
      for (const operation of Object.values(methods)) {
        const schemas = [
          operation.requestBody?.content["application/json"]?.schema,
          ...Object.values(operation.responses).map(
            (response) => response.content?.["application/json"]?.schema,
          ),
        ].filter((schema) => schema !== undefined);
        for (const schema of schemas) {
          ajv.compile(rewrite(schema));
          compiled += 1;
        }
      }
    }
    expect(compiled).toBeGreaterThan(Object.keys(operations).length * 2);
  });
});
