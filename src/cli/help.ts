/**
 * Shared pieces of the CLI's help: how a command's help ends (more words, then examples), and the
 * type of a command's action. Used by every registration (`program.ts`, `program-inspect.ts`).
 */

/** What an action hands back: the process's exit code. */
export type Action = Promise<number>;

/** Wraps a command handler so that its exit code reaches the program. */
export type Act = <Args extends unknown[]>(
  handler: (...args: Args) => Action,
) => (...args: Args) => Promise<void>;

/** Help text that ends a command's help: what it does in more words (if any), and examples. */
export function details(text: string, examples: readonly string[]): string {
  const lines = examples.map((example) => `  $ ${example}`).join("\n");
  return `${text === "" ? "" : `\n${text}\n`}\nExamples:\n${lines}`;
}
