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
 * This module holds the types and the writer; `export-read.ts` the reader.
 */
import { createHash, type Hash } from "node:crypto";
import { registerErrorCode, StepwiseError } from "../errors/base.ts";
import type { ImportRunInput, RunRecord } from "../world/types.ts";

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

/** Counts of nothing yet: what a writer and a reader start from. */
export function noCounts(): ExportCounts {
  return { runs: 0, events: 0, inbox: 0, streams: 0, chunks: 0, messages: 0, bundles: 0 };
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

/** Base64 of bytes (payloads, chunks, bundle code). */
export const b64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
/** Bytes from base64 text; throws when it is not text. */
export const unb64 = (text: unknown, what: string): Uint8Array => {
  if (typeof text !== "string") throw new Error(`${what} is not base64 text`);
  return new Uint8Array(Buffer.from(text, "base64"));
};

/** Writes an export line by line, hashing as it goes; `end()` writes the trailer. */
export class ExportWriter {
  private readonly hash: Hash = createHash("sha256");
  readonly counts: ExportCounts = noCounts();

  private readonly write: (text: string) => Promise<void>;

  /** `write` sends text to the file (and may wait for it to drain). */
  constructor(write: (text: string) => Promise<void>) {
    this.write = write;
  }

  private async line(value: unknown): Promise<void> {
    const text = `${JSON.stringify(value)}\n`;
    this.hash.update(text, "utf8");
    await this.write(text);
  }

  /** The first line: what wrote the file, from where, when, with which filter. */
  header(header: Omit<ExportHeader, "type" | "formatVersion">): Promise<void> {
    return this.line({ type: EXPORT_FILE_TYPE, formatVersion: EXPORT_FORMAT_VERSION, ...header });
  }

  /** One workflow bundle version. */
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

  /** One run: its record line, then its events, inbox items, streams with their chunks, messages. */
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
