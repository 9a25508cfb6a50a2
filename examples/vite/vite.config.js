// The example's Vite config: stepwise() compiles "use workflow" / "use step" in server code.
// `vite build` builds the browser script into dist/client, `vite build --ssr src/entry-server.js`
// the server entry into dist/server (which server.js runs with plain node).
import { stepwise } from "stepwise-workflows/vite";
import { defineConfig } from "vite";

export default defineConfig(({ isSsrBuild }) => ({
  plugins: [stepwise()],
  // The example has no node_modules of its own: keep Vite's cache beside it, not in the repository's.
  cacheDir: ".vite",
  build: isSsrBuild
    ? { outDir: "dist/server", emptyOutDir: true }
    : { outDir: "dist/client", emptyOutDir: true, manifest: true, rollupOptions: { input: "src/main.js" } },
}));
