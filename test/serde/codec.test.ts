/**
 * The value codec on its own (host realm): every case of `cases.ts` survives encode → decode
 * exactly (by fingerprint), user classes go through their static serialize / deserialize pair, and
 * values that cannot be serialized fail with a message that names the class and the fix.
 */
import { describe, expect, it } from "vitest";
import { SerializationError } from "../../src/errors/runtime.ts";
import {
  createClassRegistry,
  deserialize,
  registerClass,
  serialize,
  UnregisteredInstance,
  withClassRegistry,
} from "../../src/serde/classes.ts";
import { decodeValue, EncodeError, encodeValue } from "../../src/serde/codec.ts";
import { CASES } from "./cases.ts";
import { fingerprint } from "./fidelity.ts";

const roundTrip = (value: unknown): unknown => decodeValue(encodeValue(value));

describe("codec round trip (host)", () => {
  for (const [name, make] of CASES) {
    it(name, () => {
      const value = make();
      expect(fingerprint(roundTrip(value))).toBe(fingerprint(value));
    });
  }

  it("keeps the identity of shared and cyclic references", () => {
    const item = { n: 1 };
    const back = roundTrip({ a: item, b: item }) as { a: object; b: object };
    expect(back.a).toBe(back.b);
    const node: Record<string, unknown> = {};
    node.self = node;
    const again = roundTrip(node) as Record<string, unknown>;
    expect(again.self).toBe(again);
  });

  it("revives errors as instances of this realm's classes", () => {
    expect(roundTrip(new TypeError("x"))).toBeInstanceOf(TypeError);
    const aggregate = roundTrip(new AggregateError([new RangeError("r")], "m")) as AggregateError;
    expect(aggregate).toBeInstanceOf(AggregateError);
    expect(aggregate.errors[0]).toBeInstanceOf(RangeError);
  });

  it("an error whose cause loops back decodes without hanging (the loop is cut)", () => {
    const error = new Error("loop") as Error & { cause?: unknown };
    error.cause = error;
    const back = roundTrip(error) as Error & { cause?: Error };
    expect(back.message).toBe("loop");
    expect(back.cause?.message).toBe("loop");
  });

  it("writes a Node Buffer as the Uint8Array it is, copying only its bytes", () => {
    const back = roundTrip(Buffer.from("abc")) as Uint8Array;
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(back)).toBe(false);
    expect(back.buffer.byteLength).toBe(3);
    expect([...back]).toEqual([97, 98, 99]);
  });
});

class Money {
  constructor(
    readonly cents: bigint,
    readonly currency: string,
  ) {}
  format(): string {
    return `${this.cents} ${this.currency}`;
  }
  static [serialize](value: Money): { cents: bigint; currency: string } {
    return { cents: value.cents, currency: value.currency };
  }
  static [deserialize](data: { cents: bigint; currency: string }): Money {
    return new Money(data.cents, data.currency);
  }
}
registerClass("test/codec//Money", Money);

class Invoice {
  constructor(
    readonly lines: Money[],
    readonly issued: Date,
  ) {}
  static [serialize](value: Invoice) {
    return { lines: value.lines, issued: value.issued };
  }
  static [deserialize](data: { lines: Money[]; issued: Date }): Invoice {
    return new this(data.lines, data.issued);
  }
}
registerClass("test/codec//Invoice", Invoice);

class DiscountedInvoice extends Invoice {}

describe("user classes", () => {
  it("round-trip through the static pair, nested in data and in each other", () => {
    const price = new Money(1999n, "EUR");
    const invoice = new Invoice([price, price, new Money(1n, "USD")], new Date(7));
    const back = roundTrip({ invoice, byId: new Map([["p", price]]) }) as {
      invoice: Invoice;
      byId: Map<string, Money>;
    };
    expect(back.invoice).toBeInstanceOf(Invoice);
    expect(back.invoice.lines[0]).toBeInstanceOf(Money);
    expect(back.invoice.lines[0]?.format()).toBe("1999 EUR");
    expect(back.invoice.issued).toEqual(new Date(7));
    // The same instance, written once, is one instance again.
    expect(back.invoice.lines[0]).toBe(back.invoice.lines[1]);
    expect(back.byId.get("p")).toBe(back.invoice.lines[0]);
  });

  it("writes the class id and the data, not the class's code", () => {
    const text = encodeValue(new Money(5n, "EUR"));
    expect(text).toContain('"test/codec//Money"');
    expect(text).toContain('"EUR"');
    expect(text).not.toContain("format");
  });

  it("a subclass is registered on its own; `this` in [deserialize] is the registered class", () => {
    expect(() => encodeValue(new DiscountedInvoice([], new Date(1)))).toThrow(
      /class DiscountedInvoice, which has the static \[serialize\]\/\[deserialize\] pair but is not registered \(it inherits the pair; a subclass is registered on its own\)/,
    );
    registerClass("test/codec//DiscountedInvoice", DiscountedInvoice);
    expect(roundTrip(new DiscountedInvoice([], new Date(1)))).toBeInstanceOf(DiscountedInvoice);
  });

  it("an unregistered class id decodes to an UnregisteredInstance that writes back the same", () => {
    const text = encodeValue({ m: new Money(3n, "GBP") }).replace(
      "test/codec//Money",
      "test/elsewhere//Money",
    );
    const back = decodeValue(text) as { m: UnregisteredInstance };
    expect(back.m).toBeInstanceOf(UnregisteredInstance);
    expect(back.m.classId).toBe("test/elsewhere//Money");
    expect(back.m.data).toEqual({ cents: 3n, currency: "GBP" });
    expect(String(back.m)).toBe('[Money: class "test/elsewhere//Money" is not registered here]');
    expect(encodeValue(back)).toBe(text);
  });

  it("decodes against a given registry, and collects registrations into one while asked", () => {
    const registry = createClassRegistry();
    // biome-ignore lint/complexity/noStaticOnlyClass: the static pair is all a serializable class needs
    class Local {
      static [serialize]() {
        return 1;
      }
      static [deserialize]() {
        return new Local();
      }
    }
    withClassRegistry(registry, () => registerClass("test/codec//Local", Local));
    expect(registry.get("test/codec//Local")).toBe(Local);
    const text = encodeValue(new Local());
    expect(decodeValue(text, registry)).toBeInstanceOf(Local);
    expect(decodeValue(text, createClassRegistry())).toBeInstanceOf(UnregisteredInstance);
  });

  it("registering needs an id and both halves of the pair, and says which is missing", () => {
    // biome-ignore lint/complexity/noStaticOnlyClass: the static pair is all a serializable class needs
    class Half {
      static [serialize]() {
        return 1;
      }
    }
    expect(() => registerClass("x", Half as never)).toThrow(SerializationError);
    expect(() => registerClass("x", Half as never)).toThrow(
      /Class Half cannot be registered as "x": it has no static \[deserialize\]\(data\)/,
    );
    expect(() => registerClass("", Money)).toThrow(/non-empty string id for Money/);
  });

  it("a throwing [serialize] or [deserialize] is reported with the class", () => {
    // biome-ignore lint/complexity/noStaticOnlyClass: the static pair is all a serializable class needs
    class WontWrite {
      static [serialize](): never {
        throw new Error("nope");
      }
      static [deserialize]() {
        return new WontWrite();
      }
    }
    // biome-ignore lint/complexity/noStaticOnlyClass: the static pair is all a serializable class needs
    class WontRead {
      static [serialize]() {
        return 1;
      }
      static [deserialize](): never {
        throw new Error("cannot read");
      }
    }
    registerClass("test/codec//WontWrite", WontWrite);
    registerClass("test/codec//WontRead", WontRead);
    expect(() => encodeValue([new WontWrite()])).toThrow(
      /The static \[serialize\] of class WontWrite threw: nope/,
    );
    const text = encodeValue([new WontRead()]);
    expect(() => decodeValue(text)).toThrow(
      /The static \[deserialize\] of class WontRead \("test\/codec\/\/WontRead"\) threw while reading a payload: cannot read/,
    );
  });
});

describe("what cannot be serialized, and the message", () => {
  const failure = (value: unknown): EncodeError => {
    try {
      encodeValue(value);
    } catch (error) {
      return error as EncodeError;
    }
    throw new Error("expected encodeValue to throw");
  };

  it("a class instance without the pair names the class, the path and the fix", () => {
    class Customer {
      name = "ada";
    }
    const error = failure({ order: { customer: new Customer() } });
    expect(error).toBeInstanceOf(EncodeError);
    expect(error.path).toBe(".order.customer");
    expect(error.message).toContain("the value at .order.customer cannot be serialized");
    expect(error.message).toContain(
      "an instance of class Customer, which has no static [serialize]/[deserialize] pair",
    );
  });

  it("a class with the pair that nobody registered says how to register it", () => {
    // biome-ignore lint/complexity/noStaticOnlyClass: the static pair is all a serializable class needs
    class Unregistered {
      static [serialize]() {
        return 1;
      }
      static [deserialize]() {
        return new Unregistered();
      }
    }
    expect(failure([new Unregistered()]).message).toContain(
      'class Unregistered, which has the static [serialize]/[deserialize] pair but is not registered: declare it as a top-level class in a file Stepwise compiles (registered automatically), or call registerClass("<a stable id>", Unregistered)',
    );
  });

  it("built-in objects without a representation, functions and symbol keys", () => {
    expect(failure({ cache: new WeakMap() }).message).toContain(
      "it is a WeakMap, which Stepwise cannot serialize",
    );
    expect(failure({ fn: () => 1 }).message).toContain(
      "the value at .fn cannot be serialized (Cannot stringify a function)",
    );
    expect(failure({ [Symbol("s")]: 1 }).message).toContain("symbolic keys");
  });
});
