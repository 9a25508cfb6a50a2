/**
 * The Decrypt dialog (in the page, not a browser prompt): reading encrypted payloads needs a
 * reason, which the server writes into the audit record before it answers them in clear.
 */
import { useState } from "preact/hooks";

export function DecryptForm(props: { onDecrypt(reason: string): Promise<void>; onCancel(): void }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="decrypt"
      data-testid="decrypt-form"
      onSubmit={async (event) => {
        event.preventDefault();
        setBusy(true);
        setError(undefined);
        try {
          await props.onDecrypt(reason.trim());
        } catch (caught) {
          setError(caught instanceof Error ? caught.message : String(caught));
        } finally {
          setBusy(false);
        }
      }}
    >
      <p>Decrypting writes an audit record with your reason. Why do you need to read these payloads?</p>
      <input
        type="text"
        name="reason"
        required
        minLength={3}
        value={reason}
        onInput={(event) => setReason(event.currentTarget.value)}
      />
      <button type="submit" disabled={busy || reason.trim().length < 3}>
        Decrypt
      </button>
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
