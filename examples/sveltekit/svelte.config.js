// SvelteKit's config: adapter-node writes a standalone Node server into build/ (`node build`).
// adapter-node bundles the server, except the packages package.json lists in "dependencies":
// stepwise-workflows must be one of them (one runtime per process, its native SQLite driver).
import adapter from "@sveltejs/adapter-node";

export default {
  kit: { adapter: adapter({ out: "build" }) },
};
