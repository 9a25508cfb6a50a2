/**
 * User classes in payloads. A class crosses a step or workflow boundary when it declares a static
 * `[serialize](instance)` / `[deserialize](data)` pair (the symbols exported from `stepwise-workflows`) and is
 * registered under a stable class id: automatically by the compiler for top-level class
 * declarations (`class//<path>//<Name>`), or by hand with `registerClass(id, Class)`.
 *
 * Encoding needs no lookup: `registerClass` stamps the id on the class itself (an own static
 * property), so a value's constructor says what to write. Decoding looks the id up in a registry.
 * Each realm has a default registry; the workflow sandbox can collect a run's classes into a
 * registry of its own while the run's bundle is evaluated (`withClassRegistry`) and decode that
 * run's payloads against it, so `instanceof` holds for the classes that run's code defined.
 *
 * The symbols and the realm's store live under `Symbol.for` keys, so every copy of this module in a
 * realm (the package loaded twice, say) shares them. Runs in both realms: no Node imports.
 */
import { SerializationError } from "../errors/runtime.ts";

/** Key of the static method that turns an instance into serializable data. */
export const serialize: unique symbol = Symbol.for("stepwise.serialize");
/** Key of the static method that turns that data back into an instance. */
export const deserialize: unique symbol = Symbol.for("stepwise.deserialize");

const CLASS_ID = Symbol.for("stepwise.classId");
const STORE = Symbol.for("stepwise.classes");
const UNREGISTERED = Symbol.for("stepwise.unregisteredInstance");
/** Where compiled workflow code finds `registerClass` and the symbols inside the sandbox. */
export const SERDE_GLOBAL = "stepwise.serde";

/** A class whose instances can cross a step or workflow boundary. */
export interface SerializableClass<T = unknown, D = unknown> {
  readonly name: string;
  /** Data for `instance`: any value Stepwise can serialize (Dates, Maps, other classes, ...). */
  [serialize](instance: T): D;
  /** An instance from data written by `[serialize]`. */
  [deserialize](data: D): T;
}

/** Classes by id. */
export type ClassRegistry = Map<string, SerializableClass>;

interface ClassStore {
  /** The realm's default registry. */
  classes: ClassRegistry;
  /** Where registrations go instead while a run's bundle is evaluated (`withClassRegistry`). */
  collecting: ClassRegistry | undefined;
}

type Bag = Record<PropertyKey, unknown>;

/** The constructor of an object, as a bag of statics (undefined when it is not a function). */
function constructorOf(value: object): Bag | undefined {
  const ctor: unknown = Reflect.get(value, "constructor");
  return typeof ctor === "function" ? (ctor as unknown as Bag) : undefined;
}

function store(): ClassStore {
  const realm = globalThis as unknown as Bag;
  let found = realm[STORE] as ClassStore | undefined;
  if (found === undefined) {
    found = { classes: new Map(), collecting: undefined };
    Object.defineProperty(globalThis, STORE, { value: found });
  }
  return found;
}

/** A fresh, empty registry (one per run in the sandbox). */
export function createClassRegistry(): ClassRegistry {
  return new Map();
}

/**
 * Runs `fn` with every class registered meanwhile added to `registry` instead of the realm's
 * default registry (so runs sharing a realm share no registry).
 */
export function withClassRegistry<T>(registry: ClassRegistry, fn: () => T): T {
  const current = store();
  const previous = current.collecting;
  current.collecting = registry;
  try {
    return fn();
  } finally {
    current.collecting = previous;
  }
}

function className(cls: unknown): string {
  const name = typeof cls === "function" ? (cls as { name?: unknown }).name : undefined;
  return typeof name === "string" && name !== "" ? name : "(anonymous class)";
}

/**
 * Registers `cls` under `classId`, so its instances can be serialized and read back in this realm.
 * The class must have the static `[serialize]` / `[deserialize]` pair (inside them `this` is the
 * class, so a base class's pair can serve subclasses through `new this(...)`). Registering again
 * under another id makes that id the one written from then on; every id keeps reading.
 * `SerializationError` when the id is empty or the pair is missing.
 */
export function registerClass<C extends SerializableClass>(classId: string, cls: C): C {
  if (typeof classId !== "string" || classId === "") {
    throw new SerializationError(
      `registerClass(classId, cls) needs a non-empty string id for ${className(cls)}, such as "my-app/Money".`,
    );
  }
  const missing = [
    typeof (cls as unknown as Bag)[serialize] === "function" ? undefined : "[serialize](instance)",
    typeof (cls as unknown as Bag)[deserialize] === "function" ? undefined : "[deserialize](data)",
  ].filter((m) => m !== undefined);
  if (typeof cls !== "function" || missing.length > 0) {
    throw new SerializationError(
      `${typeof cls === "function" ? `Class ${className(cls)}` : "This value"} cannot be registered as "${classId}": it has no static ${missing.join(" and no static ")}. Declare both, with the symbols from "stepwise-workflows": static [serialize](instance) { return data } and static [deserialize](data) { return new ${typeof cls === "function" ? className(cls) : "Class"}(...) }.`,
    );
  }
  Object.defineProperty(cls, CLASS_ID, { value: classId, configurable: true });
  const current = store();
  (current.collecting ?? current.classes).set(classId, cls);
  return cls;
}

/**
 * A value of a class this realm has not registered (the CLI, a client that does not import the
 * class, workflow code that never loads it): it keeps the class id and the data, and serializes
 * back to exactly what it was read from, so it can pass through to a step that knows the class.
 */
export class UnregisteredInstance {
  readonly classId: string;
  readonly data: unknown;
  constructor(classId: string, data: unknown) {
    this.classId = classId;
    this.data = data;
    Object.freeze(this);
  }
  /** Recognised by every copy of this module, in every realm. */
  get [UNREGISTERED](): true {
    return true;
  }
  toString(): string {
    return `[${this.classId.slice(this.classId.lastIndexOf("/") + 1)}: class "${this.classId}" is not registered here]`;
  }
}

/** The class id and data of an `UnregisteredInstance` (from any copy of this module), if `value` is one. */
export function unregisteredInstance(value: unknown): { classId: string; data: unknown } | undefined {
  if (typeof value !== "object" || value === null || (value as Bag)[UNREGISTERED] !== true) return undefined;
  const { classId, data } = value as UnregisteredInstance;
  return { classId, data };
}

/** devalue reducer: `[classId, data]` for an instance of a registered class. */
export function reduceClassInstance(value: unknown): [string, unknown] | false {
  if (typeof value !== "object" || value === null) return false;
  const unregistered = unregisteredInstance(value);
  if (unregistered !== undefined) return [unregistered.classId, unregistered.data];
  const ctor = constructorOf(value);
  if (ctor === undefined || !Object.hasOwn(ctor, CLASS_ID)) return false;
  const write = ctor[serialize];
  if (typeof write !== "function") return false;
  try {
    return [ctor[CLASS_ID] as string, (write as (instance: unknown) => unknown).call(ctor, value)];
  } catch (error) {
    throw new SerializationError(
      `The static [serialize] of class ${className(ctor)} threw: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** devalue reviver: the instance for `[classId, data]`, from `registry` or the realm's default one. */
export function reviveClassInstance(entry: [string, unknown], registry?: ClassRegistry): unknown {
  const [classId, data] = entry;
  const cls = (registry ?? store().classes).get(classId);
  if (cls === undefined) return new UnregisteredInstance(classId, data);
  try {
    return cls[deserialize](data);
  } catch (error) {
    throw new SerializationError(
      `The static [deserialize] of class ${className(cls)} ("${classId}") threw while reading a payload: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

function isNative(fn: unknown): boolean {
  return (
    typeof fn === "function" && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn))
  );
}

/**
 * Why `value`, an object devalue refused as not plain, cannot be serialized, when it is a class
 * instance: the class, and what to do about it. Undefined for other values.
 */
export function explainClassInstance(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null || Object.getPrototypeOf(proto) === null) return undefined; // a plain object
  const ctor = constructorOf(value);
  if (ctor === undefined) return undefined;
  const name = className(ctor);
  if (isNative(ctor)) return `it is a ${name}, which Stepwise cannot serialize`;
  const hasPair = typeof ctor[serialize] === "function" && typeof ctor[deserialize] === "function";
  if (!hasPair) {
    return `it is an instance of class ${name}, which has no static [serialize]/[deserialize] pair: declare static [serialize](instance) and static [deserialize](data) with the symbols from "stepwise-workflows", or pass plain data`;
  }
  const inherited = Object.hasOwn(ctor, serialize)
    ? ""
    : " (it inherits the pair; a subclass is registered on its own)";
  return `it is an instance of class ${name}, which has the static [serialize]/[deserialize] pair but is not registered${inherited}: declare it as a top-level class in a file Stepwise compiles (registered automatically), or call registerClass("<a stable id>", ${name})`;
}

/** The object compiled workflow code reaches as `globalThis[Symbol.for("stepwise.serde")]`. */
export interface SerdeGlobal {
  serialize: typeof serialize;
  deserialize: typeof deserialize;
  registerClass: typeof registerClass;
}

/** The serde helpers, under `Symbol.for(SERDE_GLOBAL)` on this realm's global (defined once). */
export function installSerdeGlobal(): SerdeGlobal {
  const key = Symbol.for(SERDE_GLOBAL);
  const existing = (globalThis as unknown as Bag)[key] as SerdeGlobal | undefined;
  if (existing !== undefined) return existing;
  const helpers: SerdeGlobal = Object.freeze({ serialize, deserialize, registerClass });
  Object.defineProperty(globalThis, key, { value: helpers });
  return helpers;
}

installSerdeGlobal();
