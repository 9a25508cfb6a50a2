/**
 * A payload value: indented JSON as text, or — when it is stored encrypted and was not decrypted —
 * the word "encrypted" and the Decrypt button (the run page asks for a reason first).
 */
import { isEncrypted } from "../api/types.ts";
import { formatJson } from "../format.ts";

export function Value(props: { value: unknown; onDecrypt?: () => void }) {
  if (isEncrypted(props.value)) {
    return (
      <span class="encrypted">
        encrypted
        {props.onDecrypt && (
          <button type="button" class="small" onClick={props.onDecrypt}>
            Decrypt…
          </button>
        )}
      </span>
    );
  }
  return <pre class="value">{formatJson(props.value)}</pre>;
}

/** An error: name and message, then its stack (or code and cause) when present. */
export function ErrorValue(props: { error: unknown; onDecrypt?: () => void }) {
  const error = props.error;
  if (isEncrypted(error) || typeof error !== "object" || error === null) {
    return <Value value={error} onDecrypt={props.onDecrypt} />;
  }
  const { name, message, stack, code, cause } = error as Record<string, unknown>;
  return (
    <div class="error-value">
      <p>
        <strong>{String(name ?? "Error")}</strong>
        {code !== undefined && <span class="muted"> {String(code)}</span>}: {String(message ?? "")}
      </p>
      {typeof stack === "string" && <pre class="stack">{stack}</pre>}
      {cause !== undefined && (
        <details>
          <summary>cause</summary>
          <Value value={cause} />
        </details>
      )}
    </div>
  );
}
