/**
 * A tiny listener set for World change hints, shared by the Worlds. Listeners run synchronously;
 * one that throws is reported and does not stop the others.
 */
import type { WorldNotification } from "./types.ts";

export interface Notifier {
  subscribe(listener: (notification: WorldNotification) => void): () => void;
  emit(notification: WorldNotification): void;
  readonly size: number;
}

export function createNotifier(): Notifier {
  const listeners = new Set<(notification: WorldNotification) => void>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    emit(notification) {
      for (const listener of [...listeners]) {
        try {
          listener(notification);
        } catch (error) {
          console.error("[stepwise] a World notification listener threw:", error);
        }
      }
    },
    get size() {
      return listeners.size;
    },
  };
}
