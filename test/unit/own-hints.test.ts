/**
 * The remote World's hints for its own writes (src/worlds/remote/own-hints.ts), as logic: a
 * listener hears each hint of its own write once, whether the server's echo comes before the
 * write returns, after it, or never, and nothing is given twice while the stream is live.
 */
import { describe, expect, it } from "vitest";
import { createNotifier } from "../../src/world/notify.ts";
import type { WorldNotification } from "../../src/world/types.ts";
import { OwnHints } from "../../src/worlds/remote/own-hints.ts";

function setup() {
  const notifier = createNotifier();
  const heard: WorldNotification[] = [];
  notifier.subscribe((n) => heard.push(n));
  return { hints: new OwnHints(notifier), heard };
}

const queue: WorldNotification = { type: "queue" };

describe("own hints", () => {
  it("while the stream is live, only the server's hints are heard", () => {
    const { hints, heard } = setup();
    hints.setReady(true);
    const mark = hints.mark();
    hints.fromServer(queue);
    hints.own(mark, queue);
    expect(heard).toEqual([queue]);
  });

  it("before the stream is live: the write's hint at once, and its echo dropped", () => {
    const { hints, heard } = setup();
    const mark = hints.mark();
    hints.own(mark, queue);
    hints.setReady(true);
    hints.fromServer(queue);
    expect(heard).toEqual([queue]);
    hints.fromServer(queue); // someone else's write: heard
    expect(heard).toEqual([queue, queue]);
  });

  it("before the stream is live: an echo that came before the write returned is not given twice", () => {
    const { hints, heard } = setup();
    const mark = hints.mark();
    hints.setReady(true);
    hints.fromServer(queue);
    hints.own(mark, queue);
    expect(heard).toEqual([queue]);
  });

  it("a hint the stream brought before the write was sent does not stand for it", () => {
    const { hints, heard } = setup();
    hints.fromServer(queue);
    const mark = hints.mark();
    hints.own(mark, queue);
    expect(heard).toEqual([queue, queue]);
  });

  it("hints of other runs are not taken for this write's", () => {
    const { hints, heard } = setup();
    const mark = hints.mark();
    hints.fromServer({ type: "run", runId: "other" });
    hints.own(mark, { type: "run", runId: "mine", status: "running" });
    expect(heard).toEqual([
      { type: "run", runId: "other" },
      { type: "run", runId: "mine", status: "running" },
    ]);
  });
});
