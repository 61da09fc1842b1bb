/**
 * Scalar values of the configuration: one normalizer per scalar kind of the schema (text,
 * integers, durations, addresses, endpoints, ranges, status codes), each returning the
 * normalized value or the reason it is wrong, and the words that say what a key expects.
 *
 * @module
 */
import { formatIp, parseIp, parsePrefix } from "../net/ip.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import type { Spec } from "./schema.ts";
import { suggest } from "./suggest.ts";
import type { Family } from "./types.ts";

/** What a spec expects, in words. */
export function describe(spec: Spec): string {
  switch (spec.kind) {
    case "string":
      return spec.patternHint ?? "text";
    case "int":
      return `an integer from ${spec.min} to ${spec.max}`;
    case "bool":
      return "true or false";
    case "duration":
      return `a duration like "100ms", "1s", "1.5s", "2m" (plain numbers are seconds)`;
    case "enum":
      return `one of ${spec.values.join(", ")}`;
    case "ip":
      return `an ${spec.family === "ipv6" ? "IPv6" : spec.family === "ipv4" ? "IPv4" : "IP"} ${
        spec.multicast === true ? "multicast " : ""
      }address`;
    case "cidr":
      return "an address with optional prefix, e.g. 10.0.0.1/24 or 2001:db8::1/64";
    case "endpoint":
      return "ADDR:PORT, IPv6 as [ADDR]:PORT";
    case "iprange":
      return "an address range like 10.0.0.60-69 or 10.0.0.60-10.0.0.69";
    case "status":
      return `an HTTP status code or a range like "200-299"`;
    case "list":
      return `a list of ${describe(spec.of)}`;
    case "map":
      return "a mapping of names";
    case "object":
    case "tagged":
      return `a ${spec.title} mapping`;
  }
}

type Norm = { ok: true; value: unknown } | { ok: false; reason: string };

/** Normalizes one scalar value (`source` is its text as written) against a scalar spec. */
export function normalizeScalar(spec: Spec, value: unknown, source: string): Norm {
  const bad = (what: string): Norm => ({
    ok: false,
    reason: `${what} (expected ${describe(spec)})`,
  });
  const shown = typeof value === "string" ? JSON.stringify(value) : source;
  const text = typeof value === "string" ? value : typeof value === "number" ? source : null;
  switch (spec.kind) {
    case "string": {
      if (text === null) return bad(`${shown} is not text`);
      if (spec.minLength !== undefined && text.length < spec.minLength) {
        return bad("the text is empty");
      }
      if (spec.maxLength !== undefined && text.length > spec.maxLength) {
        return bad(`${shown} is longer than ${spec.maxLength} characters`);
      }
      if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(text)) {
        return bad(`${shown} is not valid`);
      }
      return { ok: true, value: text };
    }
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value)) {
        return bad(`${shown} is not an integer`);
      }
      if (value < spec.min || value > spec.max) return bad(`${value} is out of range`);
      return { ok: true, value };
    case "bool":
      if (typeof value !== "boolean") return bad(`${shown} is not a boolean`);
      return { ok: true, value };
    case "duration": {
      const ms = typeof value === "number" || typeof value === "string"
        ? parseDuration(value)
        : null;
      if (ms === null) return bad(`${shown} is not a duration`);
      if (spec.minMs !== undefined && ms < spec.minMs) {
        return {
          ok: false,
          reason: `${shown} is too short (expected at least ${formatDuration(spec.minMs)})`,
        };
      }
      if (spec.maxMs !== undefined && ms > spec.maxMs) {
        return {
          ok: false,
          reason: `${shown} is too long (expected at most ${formatDuration(spec.maxMs)})`,
        };
      }
      return { ok: true, value: ms };
    }
    case "enum": {
      const hit = spec.values.find((v) => v === value || (typeof v === "string" && v === text));
      if (hit !== undefined) return { ok: true, value: hit };
      const s = text === null ? null : suggest(text, spec.values.map(String));
      return {
        ok: false,
        reason: `${shown} is not allowed (expected one of ${spec.values.join(", ")}${
          s === null ? "" : `; did you mean "${s}"?`
        })`,
      };
    }
    case "ip": {
      const a = text === null ? null : parseIp(text);
      if (a === null || (spec.family !== undefined && a.family !== spec.family)) {
        return bad(`${shown} is not valid`);
      }
      const mc = a.family === "ipv4" ? (a.bytes[0]! & 0xf0) === 0xe0 : a.bytes[0] === 0xff;
      if (spec.multicast === true && !mc) return bad(`${shown} is not a multicast address`);
      return { ok: true, value: formatIp(a.bytes) };
    }
    case "cidr": {
      const p = text === null ? null : parsePrefix(text);
      if (p === null) return bad(`${shown} is not an address`);
      return {
        ok: true,
        value: { address: formatIp(p.bytes), prefix: p.prefix, family: p.family },
      };
    }
    case "endpoint":
      return text === null ? bad(`${shown} is not an address`) : parseEndpoint(text, spec, bad);
    case "iprange":
      return text === null ? bad(`${shown} is not a range`) : parseRange(text, bad);
    case "status": {
      const m = text === null ? null : /^([1-5][0-9]{2})(?:-([1-5][0-9]{2}))?$/.exec(text);
      if (m === null) return bad(`${shown} is not a status code`);
      const from = Number(m[1]);
      const to = m[2] === undefined ? from : Number(m[2]);
      if (to < from) return bad(`${shown} is an empty range`);
      return { ok: true, value: { from, to } };
    }
    default:
      throw new Error(`normalizeScalar: ${spec.kind} is not a scalar`);
  }
}

function parseEndpoint(
  text: string,
  spec: Extract<Spec, { kind: "endpoint" }>,
  bad: (what: string) => Norm,
): Norm {
  const m = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(text) ?? /^([^:]+)(?::([0-9]+))?$/.exec(text);
  const bare = m === null ? parseIp(text) : null;
  const host = m?.[1] ?? (bare !== null ? text : null);
  const a = host === null ? null : parseIp(host);
  if (a === null) return bad(`${JSON.stringify(text)} is not an address and port`);
  if (bare !== null && bare.family === "ipv6") {
    if (spec.portOptional === true) {
      return { ok: true, value: { address: formatIp(a.bytes), port: 0, family: a.family } };
    }
    return bad(`${JSON.stringify(text)} has no port`);
  }
  const portText = m?.[2];
  if (portText === undefined) {
    if (spec.portOptional !== true) return bad(`${JSON.stringify(text)} has no port`);
    return { ok: true, value: { address: formatIp(a.bytes), port: 0, family: a.family } };
  }
  const port = Number(portText);
  // An optional port may be written as 0 (keepalived's spelling of "no port").
  if (port === 0 && spec.portOptional === true) {
    return { ok: true, value: { address: formatIp(a.bytes), port: 0, family: a.family } };
  }
  if (port < 1 || port > 65535) return bad(`port ${portText} is out of range 1-65535`);
  return { ok: true, value: { address: formatIp(a.bytes), port, family: a.family } };
}

function parseRange(text: string, bad: (what: string) => Norm): Norm {
  const dash = text.lastIndexOf("-");
  const from = dash < 0 ? null : parseIp(text.slice(0, dash));
  if (from === null) return bad(`${JSON.stringify(text)} is not a range`);
  const tail = text.slice(dash + 1);
  let to = parseIp(tail)?.bytes ?? null;
  if (to === null && /^[0-9a-fA-F]{1,4}$/.test(tail)) {
    to = from.bytes.slice();
    if (from.family === "ipv4") {
      if (!/^[0-9]{1,3}$/.test(tail) || Number(tail) > 255) {
        return bad(`${JSON.stringify(text)} is not a range`);
      }
      to[3] = Number(tail);
    } else {
      const n = parseInt(tail, 16);
      to[14] = n >> 8;
      to[15] = n & 0xff;
    }
  }
  if (to === null || to.length !== from.bytes.length) {
    return bad(`${JSON.stringify(text)} is not a range`);
  }
  for (let i = 0; i < to.length; i++) {
    if (to[i] !== from.bytes[i]) {
      if (to[i]! < from.bytes[i]!) return bad(`${JSON.stringify(text)} ends before it starts`);
      break;
    }
  }
  return { ok: true, value: { from: formatIp(from.bytes), to: formatIp(to), family: from.family } };
}

/** The family of an address given as text, or undefined when absent or not an address. */
export function familyOf(text: string | undefined): Family | undefined {
  return text === undefined ? undefined : parseIp(text)?.family;
}
