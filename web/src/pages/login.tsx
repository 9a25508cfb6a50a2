/**
 * The login form: the server's secret (STEPWISE_HTTP_SECRET) is posted once to `POST /session`,
 * which sets an HttpOnly session cookie; the secret itself is never stored by the page.
 */
import { useState } from "preact/hooks";
import { ApiError, api } from "../api/client.ts";

export function LoginPage(props: { onSignedIn: () => void }) {
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.login(secret);
      setSecret("");
      props.onSignedIn();
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? "That secret was refused. Use the value of STEPWISE_HTTP_SECRET the server was started with."
          : caught instanceof Error
            ? caught.message
            : String(caught),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="login">
      <h1>Stepwise</h1>
      <form onSubmit={submit} data-testid="login-form">
        <label>
          Secret
          <input
            type="password"
            name="secret"
            autocomplete="current-password"
            value={secret}
            onInput={(event) => setSecret(event.currentTarget.value)}
            required
          />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
      <p class="hint">
        The secret is the server's STEPWISE_HTTP_SECRET. Signing in keeps a session cookie for 12 hours.
      </p>
    </section>
  );
}
