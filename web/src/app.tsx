/**
 * The app shell: the navigation bar, the login form whenever the API answers 401, and the page of
 * the current route. Signing in remounts the page so it fetches again with the new session. A
 * one-time secret in the URL's fragment (`npx stepwise web`) signs in before anything is fetched.
 */

const fragmentSecret = takeFragmentSecret();

import { useEffect, useState } from "preact/hooks";
import { api, onUnauthorized } from "./api/client.ts";
import { Link } from "./components/link.tsx";
import { takeFragmentSecret } from "./fragment-secret.ts";
import { LoginPage } from "./pages/login.tsx";
import { NotFoundPage } from "./pages/not-found.tsx";
import { RunPage } from "./pages/run.tsx";
import { RunsPage } from "./pages/runs.tsx";
import { WorkflowsPage } from "./pages/workflows.tsx";
import { useRoute } from "./router.ts";

export function App() {
  const route = useRoute();
  const [signedOut, setSignedOut] = useState(false);
  const [session, setSession] = useState(0);
  const [signingIn, setSigningIn] = useState(fragmentSecret !== undefined);
  useEffect(() => onUnauthorized(() => setSignedOut(true)), []);
  useEffect(() => {
    if (fragmentSecret === undefined) return;
    api.login(fragmentSecret).then(
      () => setSigningIn(false),
      () => {
        setSigningIn(false);
        setSignedOut(true);
      },
    );
  }, []);

  if (signingIn) return <p class="muted signing-in">Signing in…</p>;
  if (signedOut) {
    return (
      <LoginPage
        onSignedIn={() => {
          setSignedOut(false);
          setSession((n) => n + 1);
        }}
      />
    );
  }
  const signOut = async () => {
    try {
      await api.logout();
    } finally {
      setSignedOut(true);
    }
  };
  return (
    <div class="shell" key={session}>
      <header class="topbar">
        <Link href="/" class="brand">
          Stepwise
        </Link>
        <nav>
          <Link href="/" class={route.page === "runs" ? "active" : ""}>
            Runs
          </Link>
          <Link href="/workflows" class={route.page === "workflows" ? "active" : ""}>
            Workflows
          </Link>
        </nav>
        <button type="button" class="link-button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        {route.page === "runs" && <RunsPage search={route.search} />}
        {route.page === "run" && <RunPage runId={route.runId} key={route.runId} />}
        {route.page === "workflows" && <WorkflowsPage />}
        {route.page === "not-found" && <NotFoundPage what={`No page at ${route.path}.`} />}
      </main>
    </div>
  );
}
