/**
 * The Config types, computed from the schema table at the type level: the same walk the
 * validator (walker.ts) does at run time, written as mapped types over `typeof CONFIG`. A key
 * is present when it is required or has a default (and, once defaults.ts ran, when it is
 * `filled`); its name is `out`, else camelCase with `Ms` for durations; flattened composite
 * scalars spread their parts; maps of objects give each entry its `name`.
 *
 * @module
 */

/** An address family. */
export type Family = "ipv4" | "ipv6";

/** An address and port. */
export interface Endpoint {
  address: string;
  port: number;
  family: Family;
}

/** An address with prefix length. */
export interface Cidr {
  address: string;
  prefix: number;
  family: Family;
}

/** An address range (virtual_server_group entries). */
export interface IpRange {
  from: string;
  to: string;
  family: Family;
}

/** An HTTP status code range (a single code has from = to). */
export interface StatusRange {
  from: number;
  to: number;
}

/** `walked`: what the walker returns; `resolved`: after defaults.ts filled the `filled` keys. */
export type Stage = "walked" | "resolved";

/** `snake_case` -> `camelCase`, as outName() does. */
export type Camel<S extends string> = S extends `${infer H}_${infer T}`
  ? `${H}${Capitalize<Camel<T>>}`
  : S;

/** The Config name of schema key K with spec S (outName() at the type level). */
export type OutKey<K extends string, S> = S extends { out: infer O extends string } ? O
  : S extends { kind: "duration" } ? `${Camel<K>}Ms`
  : Camel<K>;

/** Whether a key with spec S is always present at stage St. */
type Has<S, St extends Stage> = S extends { required: true } ? true
  : S extends { default: unknown } ? true
  : St extends "resolved" ? (S extends { filled: true } ? true : false)
  : false;

/** The values of the scalar kinds. */
interface ScalarValue {
  string: string;
  ip: string;
  int: number;
  duration: number;
  bool: boolean;
  cidr: Cidr;
  endpoint: Endpoint;
  iprange: IpRange;
  status: StatusRange;
}

/**
 * The normalized value of a node with spec S at stage St. The nesting kinds come first and the
 * scalars are one table lookup: each nested level costs few instantiations, so the whole file's
 * type stays within the compiler's depth limit.
 */
export type Value<S, St extends Stage> = S extends { kind: "object"; fields: infer F }
  ? Fields<F, St>
  : S extends { kind: "list"; of: infer O } ? Value<O, St>[]
  : S extends { kind: infer K extends keyof ScalarValue } ? ScalarValue[K]
  : S extends { kind: "enum"; values: readonly (infer V)[] } ? V
  : S extends { kind: "tagged"; variants: infer V } ? Variants<V, St>
  : S extends { kind: "map"; of: infer O }
    ? (S extends { asList: true } ? Named<O, St>[] : Record<string, Named<O, St>>)
  : never;

/** A map entry: objects get their map key as `name`. */
type Named<O, St extends Stage> = O extends { kind: "object" } ? { name: string } & Value<O, St>
  : Value<O, St>;

/** One object per variant, discriminated on `type`. */
type Variants<V, St extends Stage> = {
  [T in keyof V]: { type: T } & Fields<V[T], St>;
}[keyof V];

/** Keys that are not flattened, always present. */
type Present<F, St extends Stage> = {
  -readonly [
    K in keyof F as F[K] extends { flatten: true } ? never
      : Has<F[K], St> extends true ? OutKey<K & string, F[K]>
      : never
  ]: Value<F[K], St>;
};

/** Keys that are not flattened and may be absent. */
type Optional<F, St extends Stage> = {
  -readonly [
    K in keyof F as F[K] extends { flatten: true } ? never
      : Has<F[K], St> extends true ? never
      : OutKey<K & string, F[K]>
  ]?: Value<F[K], St>;
};

/** The parts of flattened keys (absent parts when the key may be absent). */
type Flattened<F, St extends Stage> = UnionToIntersection<
  {
    [K in keyof F]: F[K] extends { flatten: true }
      ? (Has<F[K], St> extends true ? Value<F[K], St> : Partial<Value<F[K], St>>)
      : never;
  }[keyof F]
>;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends
  (x: infer I) => void ? I : never;

/** The normalized object of an object spec's fields at stage St. */
export type Fields<F, St extends Stage> = Present<F, St> & Optional<F, St> & Flattened<F, St>;
