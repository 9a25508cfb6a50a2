// The example's Vite config: SvelteKit's plugin, and stepwise() compiling "use workflow" /
// "use step" in server code (a directive in a component or in browser code is a build error).
import { sveltekit } from "@sveltejs/kit/vite";
import { stepwise } from "stepwise-workflows/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [sveltekit(), stepwise()],
});
