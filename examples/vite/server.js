// Serves the example: `node server.js --dev` through Vite's dev server (directives compiled on the
// fly by the plugin), `node server.js` from the build (`npm run build`: dist/client, dist/server).
// PORT (default 5173, 0 picks a free one); prints "listening on http://…" when ready.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dev = process.argv.includes("--dev");

let vite;
let entry;
let clientScript = "/src/main.js";
if (dev) {
  const { createServer: createVite } = await import("vite");
  vite = await createVite({ root: here, server: { middlewareMode: true }, appType: "custom" });
  entry = () => vite.ssrLoadModule("/src/entry-server.js");
} else {
  const server = await import("./dist/server/entry-server.js");
  entry = async () => server;
  const manifest = JSON.parse(await readFile(join(here, "dist/client/.vite/manifest.json"), "utf8"));
  clientScript = `/${manifest["src/main.js"].file}`;
}

async function readBody(request) {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text === "" ? {} : JSON.parse(text);
}

const server = createServer(async (request, response) => {
  try {
    const url = new URL(request.url, "http://localhost");
    if (url.pathname.startsWith("/api/")) {
      const { api } = await entry();
      const result = await api(request.method, url.pathname, await readBody(request));
      response.writeHead(result.status, { "content-type": "application/json" });
      return response.end(JSON.stringify(result.json));
    }
    if (url.pathname === "/") {
      const { render } = await entry();
      response.writeHead(200, { "content-type": "text/html" });
      return response.end(render(clientScript));
    }
    if (dev) return vite.middlewares(request, response);
    const file = join(here, "dist/client", url.pathname);
    if (!file.startsWith(join(here, "dist/client"))) throw new Error("outside dist/client");
    response.writeHead(200, { "content-type": "text/javascript" });
    response.end(await readFile(file));
  } catch (error) {
    response.writeHead(500, { "content-type": "text/plain" });
    response.end(String(error?.stack ?? error));
  }
});
server.listen(Number(process.env.PORT ?? 5173), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
