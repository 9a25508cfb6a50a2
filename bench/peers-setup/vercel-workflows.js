// The benchmark workflows for the Vercel Workflow SDK peer -- the same three every engine runs.
// bench/peers-setup/install.mjs copies this file to bench/peers/vercel-app/workflows/bench.js and
// builds it with `workflow build` (standalone bundles under .well-known/workflow/v1/).
import { createHook } from "workflow";

async function noop(i, key) {
  "use step";
  globalThis.__benchStep?.(key, i);
  return i;
}

export async function sequential(n, key) {
  "use workflow";
  let last = 0;
  for (let i = 0; i < n; i++) last = await noop(i, key);
  return last;
}

export async function fanout(n, key) {
  "use workflow";
  const all = await Promise.all(Array.from({ length: n }, (_, i) => noop(i, key)));
  return all.length;
}

export async function waitHook(token, key) {
  "use workflow";
  const hook = createHook({ token });
  const payload = await hook;
  return await noop(payload.v, key);
}
