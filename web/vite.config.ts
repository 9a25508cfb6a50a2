/**
 * The dashboard's build (`npm run build` → `dist/web/`: index.html and hashed assets, served by
 * `npx stepwise server` at `/`) and its dev server (`npx vite web`: hot reload, with `/stepwise`
 * proxied to a running server at STEPWISE_URL, default http://127.0.0.1:4100). JSX goes through
 * Vite's esbuild with Preact's automatic runtime: no Babel.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const target = process.env.STEPWISE_URL ?? "http://127.0.0.1:4100";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    // No inline polyfill script: the page must run under `script-src 'self'`.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: "es2022",
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      // The run API and its server-sent events; `ws: false`, SSE is plain HTTP.
      "/stepwise": { target, changeOrigin: false },
    },
  },
});
