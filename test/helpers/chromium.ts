/**
 * Debian's Chromium for the browser tests (DESIGN.md §9): where it is (`STEPWISE_CHROMIUM`
 * overrides /usr/bin/chromium) and the flags every launch takes — headless, and none of
 * Chromium's own traffic on this closed network. playwright gives each launch a fresh profile.
 */
export const CHROMIUM = process.env.STEPWISE_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
