/**
 * Reading an export file (the format is described in `export-format.ts`): line by line as raw
 * bytes, so the SHA-256 is taken over exactly what was written; every record checked for its
 * shape and its place (a run's records after its run line, a chunk after its stream); a run handed
 * on once all its records are read, so one run at a time is in memory.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { EventRecord } from "../world/events.ts";
import type { InboxItem, StreamChunk } from "../world/types.ts";
import {
  EXPORT_FILE_TYPE,
  EXPORT_FORMAT_VERSION,
  type ExportCounts,
  type ExportedBundle,
  type ExportedRun,
  type ExportedRunRecord,
  ExportFileError,
  type ExportHeader,
  noCounts,
  unb64,
} from "./export-format.ts";

/** What a reader is told, in file order. */
export interface ExportVisitor {
  bundle?(bundle: ExportedBundle): void | Promise<void>;
  run?(run: ExportedRun): void | Promise<void>;
}

/** What reading a whole file found. */
export interface ExportReadResult {
  header: ExportHeader;
  counts: ExportCounts;
}

/** Lines of a file as raw bytes, without their newline; the last one may lack it (`complete` false). */
async function* lines(path: string): AsyncGenerator<{ bytes: Buffer; complete: boolean }> {
  let rest: Buffer = Buffer.alloc(0);
  const stream = createReadStream(path);
  // A file that cannot be opened is the user's to fix, not a bug: say so with the system's reason.
  await new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", (error) =>
      reject(
        new ExportFileError(
          `Cannot read the export file ${path}: ${error.message}. Check the path and its permissions.`,
        ),
      ),
    );
  });
  for await (const chunk of stream) {
    let data = rest.length === 0 ? (chunk as Buffer) : Buffer.concat([rest, chunk as Buffer]);
    for (let at = data.indexOf(0x0a); at !== -1; at = data.indexOf(0x0a)) {
      yield { bytes: data.subarray(0, at), complete: true };
      data = data.subarray(at + 1);
    }
    rest = data;
  }
  if (rest.length > 0) yield { bytes: rest, complete: false };
}

type Json = Record<string, unknown>;

const str = (value: unknown, what: string): string => {
  if (typeof value !== "string") throw new Error(`${what} is missing`);
  return value;
};
const num = (value: unknown, what: string): number => {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`${what} is not a number`);
  return value;
};

/**
 * Reads an export file from start to end, handing each bundle and each run (with all its records)
 * to `visitor` as it comes, and checks it whole: the header, every line's shape, the order of the
 * records, the trailer's counts and hash. `ExportFileError` (with the line number) when anything
 * is wrong; a visitor sees runs before the end is checked, so a caller that must write nothing
 * from a bad file reads it once without writing first.
 */
export async function readExport(path: string, visitor: ExportVisitor = {}): Promise<ExportReadResult> {
  const hash = createHash("sha256");
  const counts = noCounts();
  let header: ExportHeader | undefined;
  let trailer: Json | undefined;
  let current: ExportedRun | undefined;
  let currentStream: { name: string; closed: boolean; chunks: StreamChunk[] } | undefined;
  let lineNo = 0;
  const fail = (why: string): never => {
    throw new ExportFileError(
      `${path} is not a complete, unaltered Stepwise export (line ${lineNo}: ${why}). Nothing was imported. Export the runs again from the source World, and copy the file whole (compare its size, or its trailer line).`,
    );
  };
  const flush = async (): Promise<void> => {
    if (current === undefined) return;
    const run = current;
    current = undefined;
    currentStream = undefined;
    if (run.input.events.length !== run.record.seq)
      fail(
        `run ${run.record.runId} has ${run.input.events.length} events, its record says ${run.record.seq}`,
      );
    await visitor.run?.(run);
  };
  for await (const { bytes, complete } of lines(path)) {
    lineNo += 1;
    if (trailer !== undefined) fail("data after the end line");
    if (!complete) fail("the file ends in the middle of a line (truncated)");
    let value: Json;
    try {
      value = JSON.parse(bytes.toString("utf8")) as Json;
    } catch {
      fail("not JSON");
      return undefined as never;
    }
    if (value === null || typeof value !== "object") fail("not a JSON object");
    if (value.type === "end") {
      trailer = value;
      continue;
    }
    hash.update(bytes);
    hash.update("\n");
    try {
      if (lineNo === 1) {
        if (value.type !== EXPORT_FILE_TYPE) fail("it does not begin with a Stepwise export header");
        const version = num(value.formatVersion, "formatVersion");
        if (version > EXPORT_FORMAT_VERSION) {
          throw new ExportFileError(
            `${path} was written by a newer Stepwise (export format ${version}; this one reads up to ${EXPORT_FORMAT_VERSION}). Nothing was imported. Import it with that version of Stepwise (npx stepwise@<version> import), or export again with this one.`,
          );
        }
        header = value as unknown as ExportHeader;
        continue;
      }
      switch (value.type) {
        case "bundle": {
          await flush();
          counts.bundles += 1;
          const workflowIds = value.workflowIds;
          if (!Array.isArray(workflowIds)) fail("a bundle without workflowIds");
          await visitor.bundle?.({
            hash: str(value.hash, "hash"),
            filename: str(value.filename, "filename"),
            workflowIds: workflowIds as string[],
            code: unb64(value.code, "code"),
          });
          break;
        }
        case "run": {
          await flush();
          counts.runs += 1;
          const { type: _type, ...record } = value;
          const r = record as unknown as ExportedRunRecord;
          str(r.runId, "runId");
          str(r.workflowName, "workflowName");
          str(r.seed, "seed");
          num(r.seq, "seq");
          num(r.specVersion, "specVersion");
          current = {
            record: r,
            input: {
              runId: r.runId,
              workflowName: r.workflowName,
              specVersion: r.specVersion,
              seed: r.seed,
              encrypted: r.encrypted === true,
              events: [],
              inbox: [],
              streams: [],
              messages: [],
            },
          };
          break;
        }
        default: {
          const run = current;
          if (run === undefined || value.runId !== run.record.runId)
            fail(`a ${String(value.type)} record outside its run`);
          const input = (run as ExportedRun).input;
          switch (value.type) {
            case "event": {
              counts.events += 1;
              const event = {
                runId: input.runId,
                seq: num(value.seq, "seq"),
                type: str(value.event, "event"),
                data: value.data ?? {},
                createdAt: num(value.createdAt, "createdAt"),
              } as EventRecord;
              if (value.payload !== undefined) event.payload = unb64(value.payload, "payload");
              (input.events as EventRecord[]).push(event);
              break;
            }
            case "inbox": {
              counts.inbox += 1;
              const { type: _type, payload, ...rest } = value;
              const item = rest as unknown as InboxItem;
              str(item.itemId, "itemId");
              num(item.createdAt, "createdAt");
              if (payload !== undefined) item.payload = unb64(payload, "payload");
              (input.inbox as InboxItem[]).push(item);
              break;
            }
            case "stream":
              counts.streams += 1;
              currentStream = { name: str(value.name, "name"), closed: value.closed === true, chunks: [] };
              (input.streams as (typeof currentStream)[]).push(currentStream);
              break;
            case "chunk":
              counts.chunks += 1;
              if (currentStream === undefined || currentStream.name !== value.name)
                fail("a chunk outside its stream");
              currentStream?.chunks.push({
                index: num(value.index, "index"),
                data: unb64(value.data, "data"),
                createdAt: num(value.createdAt, "createdAt"),
              });
              break;
            case "message": {
              counts.messages += 1;
              const message: { kind: string; dedupeKey?: string; availableAt: number } = {
                kind: str(value.kind, "kind"),
                availableAt: num(value.availableAt, "availableAt"),
              };
              if (typeof value.dedupeKey === "string") message.dedupeKey = value.dedupeKey;
              (input.messages as (typeof message)[]).push(message);
              break;
            }
            default:
              fail(`an unknown record type ${JSON.stringify(value.type)}`);
          }
        }
      }
    } catch (error) {
      if (ExportFileError.is(error)) throw error;
      fail((error as Error).message);
    }
  }
  if (header === undefined) fail("the file is empty");
  if (trailer === undefined) fail("the end line is missing (truncated)");
  if (trailer?.sha256 !== hash.digest("hex"))
    fail("its content does not match the SHA-256 in its end line (altered or damaged)");
  if (JSON.stringify(trailer?.counts) !== JSON.stringify(counts))
    fail("its records do not match the counts in its end line");
  await flush();
  return { header: header as ExportHeader, counts };
}
