/**
 * `npx stepwise web` without STEPWISE_HTTP_SECRET prints the dashboard's URL with a one-time
 * secret in its fragment (`#secret=…`, never sent to a server): the app takes it once, removes it
 * from the address bar and the history at once, and signs in with it.
 */

/** The secret in the page's fragment, if any, removed from the URL. */
export function takeFragmentSecret(): string | undefined {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const secret = fragment.get("secret");
  if (secret === null) return undefined;
  fragment.delete("secret");
  const rest = fragment.toString();
  history.replaceState(history.state, "", `${location.pathname}${location.search}${rest ? `#${rest}` : ""}`);
  return secret === "" ? undefined : secret;
}
