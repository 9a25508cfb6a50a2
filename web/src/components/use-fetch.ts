/**
 * `useFetch`: the state of one API read (loading, value, error) with a `reload` that keeps the
 * last value on screen while fetching again, so live re-fetches do not flicker.
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Fetched<T> {
  value: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload(): void;
}

export function useFetch<T>(load: () => Promise<T>, deps: readonly unknown[]): Fetched<T> {
  const [state, setState] = useState<{ value: T | undefined; error: Error | undefined; loading: boolean }>({
    value: undefined,
    error: undefined,
    loading: true,
  });
  const generation = useRef(0);
  const loader = useRef(load);
  loader.current = load;
  const reload = useCallback(() => {
    const mine = ++generation.current;
    setState((previous) => ({ ...previous, loading: true }));
    loader.current().then(
      (value) => {
        if (mine === generation.current) setState({ value, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (mine === generation.current) {
          setState((previous) => ({
            value: previous.value,
            error: error instanceof Error ? error : new Error(String(error)),
            loading: false,
          }));
        }
      },
    );
  }, []);
  // The caller's dependencies decide when to read again (this hook passes them through).
  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's, by design.
  useEffect(reload, deps);
  return { ...state, reload };
}
