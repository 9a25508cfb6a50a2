/**
 * Encryption keys from the environment: the accepted formats (base64 with or without padding,
 * URL-safe base64, hex), refusal of malformed and weak keys with a ConfigError that says how to make
 * one (and never repeats the key), key ids, and the keyring of a current key plus old ones.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors/runtime.ts";
import { keyringFromEnv, parseEncryptionKey } from "../../src/serde/keys.ts";

const raw = randomBytes(32);
const formats = {
  base64: raw.toString("base64"),
  "base64 without padding": raw.toString("base64").replace(/=+$/, ""),
  base64url: raw.toString("base64url"),
  hex: raw.toString("hex"),
  "HEX (upper case)": raw.toString("hex").toUpperCase(),
  "with surrounding whitespace": `  ${raw.toString("base64")}\n`,
};

function configError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    expect(ConfigError.is(error)).toBe(true);
    return error as Error;
  }
  throw new Error("expected a ConfigError");
}

describe("parseEncryptionKey", () => {
  it("accepts 32 bytes in every documented format, all giving the same key id", () => {
    const ids = Object.values(formats).map((text) => parseEncryptionKey(text, "K").id);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{16}$/);
  });

  it("gives different keys different ids", () => {
    expect(parseEncryptionKey(randomBytes(32).toString("hex"), "K").id).not.toBe(
      parseEncryptionKey(formats.hex, "K").id,
    );
  });

  const malformed = {
    "a passphrase": "correct horse battery staple",
    "16 bytes": randomBytes(16).toString("base64"),
    "33 bytes": randomBytes(33).toString("base64"),
    "63 hex digits": randomBytes(32).toString("hex").slice(1),
    "base64 with a stray character": `${raw.toString("base64").slice(0, 42)}!=`,
  };
  for (const [name, text] of Object.entries(malformed)) {
    it(`refuses ${name}, saying what a key is and how to make one, without echoing it`, () => {
      const error = configError(() => parseEncryptionKey(text, "STEPWISE_ENCRYPTION_KEY"));
      expect(error.message).toContain("STEPWISE_ENCRYPTION_KEY is not a valid encryption key");
      expect(error.message).toContain("base64 (44 characters) or hex (64 characters)");
      expect(error.message).toContain("openssl rand -base64 32");
      expect(error.message).not.toContain(text);
    });
  }

  const weak = {
    "all zero": "0".repeat(64),
    "a repeated pattern": "ab12".repeat(16),
    "base64 of text": Buffer.from("my-super-secret-password-1234567").toString("base64"),
  };
  for (const [name, text] of Object.entries(weak)) {
    it(`refuses a weak key (${name})`, () => {
      const error = configError(() => parseEncryptionKey(text, "STEPWISE_ENCRYPTION_KEY"));
      expect(error.message).toContain("STEPWISE_ENCRYPTION_KEY is too weak to be an encryption key");
      expect(error.message).toContain("openssl rand -base64 32");
    });
  }
});

describe("keyringFromEnv", () => {
  const current = randomBytes(32).toString("base64");
  const old1 = randomBytes(32).toString("hex");
  const old2 = randomBytes(32).toString("base64url");

  it("has no key when nothing (or an empty string) is set", () => {
    for (const env of [{}, { STEPWISE_ENCRYPTION_KEY: "" }, { STEPWISE_ENCRYPTION_KEY: "  " }]) {
      const keys = keyringFromEnv(env);
      expect(keys.current).toBeUndefined();
      expect(keys.ids).toEqual([]);
    }
  });

  it("holds the current key first, then the old ones (comma-separated, spaces and empty entries ignored)", () => {
    const keys = keyringFromEnv({
      STEPWISE_ENCRYPTION_KEY: current,
      STEPWISE_ENCRYPTION_OLD_KEYS: ` ${old1} ,, ${old2},${current}`,
    });
    const ids = [current, old1, old2].map((text) => parseEncryptionKey(text, "K").id);
    expect(keys.current?.id).toBe(ids[0]);
    expect(keys.ids).toEqual(ids);
    for (const id of ids) expect(keys.get(id)?.id).toBe(id);
    expect(keys.get("0000000000000000")).toBeUndefined();
  });

  it("may hold old keys without a current one (reading older runs, writing in clear)", () => {
    const keys = keyringFromEnv({ STEPWISE_ENCRYPTION_OLD_KEYS: old1 });
    expect(keys.current).toBeUndefined();
    expect(keys.ids).toHaveLength(1);
  });

  it("names the bad entry of the old keys", () => {
    const error = configError(() =>
      keyringFromEnv({ STEPWISE_ENCRYPTION_KEY: current, STEPWISE_ENCRYPTION_OLD_KEYS: `${old1},nope` }),
    );
    expect(error.message).toContain("STEPWISE_ENCRYPTION_OLD_KEYS entry 2 is not a valid encryption key");
  });
});
