/**
 * Console lines as text: `#attempt time level text`, an encrypted attempt's output as one
 * `<encrypted: n lines>` line (the logs route never decrypts; `inspect logs --decrypt` does).
 */
import type { LogLine } from "../api/types.ts";

function lineText(line: LogLine): string {
  const where = line.attempt === null ? "" : `#${line.attempt} `;
  const time = line.at.slice(11, 23);
  if (line.encrypted) return `${where}${time} <encrypted: ${line.lines ?? "?"} lines>\n`;
  return `${where}${time} ${line.level ?? ""} ${line.text ?? ""}\n`;
}

export function LogLines(props: { lines: LogLine[]; testId?: string }) {
  return (
    <pre class="logs" data-testid={props.testId}>
      {props.lines.map(lineText)}
    </pre>
  );
}
