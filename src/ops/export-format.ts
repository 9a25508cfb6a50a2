/**
 * The export file (`npx stepwise export` / `import`, `replay --check --from`): NDJSON, one JSON
 * object per line, UTF-8, streamable both ways. Format version 1:
 *
 *   {"type":"stepwise-export","formatVersion":1,"specVersion":4,"world":"local","createdAt":"…","filter":{…}}
 *   {"type":"bundle","hash":"…","filename":"…","workflowIds":[…],"code":"<base64>"}   one per version
 *   {"type":"run","runId":"…","workflowName":"…","status":"…","seq":12,"seed":"…",…}    then its records:
 *   {"type":"event","runId":"…","seq":1,"event":"run_created","data":{…},"payload":"<base64>","createdAt":…}
 *   {"type":"inbox","runId":"…","itemId":"…","kind":"hook_payload",…,"payload":"<base64>","createdAt":…}
 *   {"type":"stream","runId":"…","name":"…","closed":true}
 *   {"type":"chunk","runId":"…","name":"…","index":0,"data":"<base64>","createdAt":…}
 *   {"type":"message","runId":"…","kind":"wake","dedupeKey":"…","availableAt":…}
 *   {"type":"end","counts":{…},"sha256":"<hex>"}
 *
 * A run's records follow its `run` line, in that order (events by seq, inbox items in storage
 * order, each stream before its chunks). Payload bytes are base64 of the bytes as stored, so
 * encrypted payloads stay encrypted. The trailer's `sha256` is the SHA-256 of every byte before
 * the trailer line: a truncated file has no trailer, an altered one another hash, and either is
 * refused (`ExportFileError`) before anything is written. Readers refuse a newer `formatVersion`.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { registerErrorCode, StepwiseError } from "../errors/base.ts";
import type { EventRecord } from "../world/events.ts";
import type { ImportRunInput, InboxItem, RunRecord, StreamChunk } from "../world/types.ts";

/** The version of the file format this code writes and reads (older versions are read too). */
export const EXPORT_FORMAT_VERSION = 1;
/** The first line's `type`, which tells an export file from any other NDJSON. */
export const EXPORT_FILE_TYPE = "stepwise-export";

/** An export file that cannot be read: truncated, altered, not an export, or from a newer Stepwise. */
export class ExportFileError extends StepwiseError {
  static override readonly code: string = "EXPORT_FILE";
}
registerErrorCode(ExportFileError.code, StepwiseError.code);

/** What an export holds and which runs: the filter it was made with. */
export interface ExportFilter {
  runIds?: string[];
  workflows?: string[];
  statuses?: string[];
  /** Epoch ms. */
  since?: number;
}

export interface ExportHeader {
  type: typeof EXPORT_FILE_TYPE;
  formatVersion: number;
  /** The `SPEC_VERSION` of the Stepwise that wrote it. */
  specVersion: number;
  /** The source World's name (`local`, `postgres`, …). */
  world: string;
  /** ISO 8601. */
  createdAt: string;
  filter: ExportFilter;
}

/** The run line: the record as the source World showed it (the import recomputes it from the log). */
export type ExportedRunRecord = Omit<RunRecord, "input" | "output" | "error" | "lease" | "wakePending">;

export interface ExportCounts {
  runs: number;
  events: number;
  inbox: number;
  streams: number;
  chunks: number;
  messages: number;
  bundles: number;
}

/** A bundle as exported: its code's bytes as the World stored them. */
export interface ExportedBundle {
  hash: string;
  filename: string;
  workflowIds: string[];
  code: Uint8Array;
}

/** One run of the file with everything that belongs to it. */
export interface ExportedRun {
  record: ExportedRunRecord;
  input: ImportRunInput;
}

const b64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
const unb64 = (text: unknown, what: string): Uint8Array => {
  if (typeof text !== "string") throw new Error(`${what} is not base64 text`);
  return new Uint8Array(Buffer.from(text, "base64"));
};

/** Writes an export line by line, hashing as it goes; `end()` writes the trailer. */
export class ExportWriter {
  private readonly hash: Hash = createHash("sha256");
  readonly counts: ExportCounts = {
    runs: 0,
    events: 0,
    inbox: 0,
    streams: 0,
    chunks: 0,
    messages: 0,
    bundles: 0,
  };

  /** `write` sends text to the file (and may wait for it to drain). */
  constructor(private readonly write: (text: string) => Promise<void>) {}

  private async line(value: unknown): Promise<void> {
    const text = `${JSON.stringify(value)}\n`;
    this.hash.update(text, "utf8");
    await this.write(text);
  }

  header(header: Omit<ExportHeader, "type" | "formatVersion">): Promise<void> {
    return this.line({ type: EXPORT_FILE_TYPE, formatVersion: EXPORT_FORMAT_VERSION, ...header });
  }

  async bundle(bundle: ExportedBundle): Promise<void> {
    this.counts.bundles += 1;
    await this.line({
      type: "bundle",
      hash: bundle.hash,
      filename: bundle.filename,
      workflowIds: bundle.workflowIds,
      code: b64(bundle.code),
    });
  }

  async run(run: ExportedRun): Promise<void> {
    const { input } = run;
    this.counts.runs += 1;
    await this.line({ type: "run", ...run.record });
    for (const event of input.events) {
      this.counts.events += 1;
      await this.line({
        type: "event",
        runId: input.runId,
        seq: event.seq,
        event: event.type,
        data: event.data,
        ...(event.payload === undefined ? {} : { payload: b64(event.payload) }),
        createdAt: event.createdAt,
      });
    }
    for (const item of input.inbox ?? []) {
      this.counts.inbox += 1;
      const { payload, ...rest } = item;
      await this.line({
        type: "inbox",
        ...rest,
        ...(payload === undefined ? {} : { payload: b64(payload) }),
      });
    }
    for (const stream of input.streams ?? []) {
      this.counts.streams += 1;
      await this.line({ type: "stream", runId: input.runId, name: stream.name, closed: stream.closed });
      for (const chunk of stream.chunks) {
        this.counts.chunks += 1;
        await this.line({
          type: "chunk",
          runId: input.runId,
          name: stream.name,
          index: chunk.index,
          data: b64(chunk.data),
          createdAt: chunk.createdAt,
        });
      }
    }
    for (const message of input.messages ?? []) {
      this.counts.messages += 1;
      await this.line({ type: "message", runId: input.runId, ...message });
    }
  }

  /** The trailer: the counts and the hash of everything before it. */
  async end(): Promise<void> {
    const text = `${JSON.stringify({ type: "end", counts: this.counts, sha256: this.hash.digest("hex") })}\n`;
    await this.write(text);
  }
}

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
  for await (const chunk of createReadStream(path)) {
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
  const counts: ExportCounts = {
    runs: 0,
    events: 0,
    inbox: 0,
    streams: 0,
    chunks: 0,
    messages: 0,
    bundles: 0,
  };
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
