/**
 * A textarea for a JSON value and a submit button: the text is parsed before anything is sent (a
 * syntax error is shown, nothing posted), and the server's refusal is shown under the form.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

export function JsonForm(props: {
  label: string;
  initial: string;
  onSubmit(value: unknown): Promise<void>;
  children?: ComponentChildren;
}) {
  const [text, setText] = useState(props.initial);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="json-form"
      onSubmit={async (event) => {
        event.preventDefault();
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (caught) {
          setError(`Not JSON: ${caught instanceof Error ? caught.message : String(caught)}`);
          return;
        }
        setBusy(true);
        setError(undefined);
        try {
          await props.onSubmit(value);
        } catch (caught) {
          setError(caught instanceof Error ? caught.message : String(caught));
        } finally {
          setBusy(false);
        }
      }}
    >
      {props.children}
      <textarea
        name="payload"
        rows={3}
        spellcheck={false}
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
      />
      <button type="submit" disabled={busy}>
        {props.label}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
