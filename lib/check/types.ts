/**
 * Health checker contracts: the normalized `CheckSpec` (units in milliseconds), one attempt's
 * `CheckOutcome`, and the `Checker` interface every kind implements.
 *
 * @module
 */

/** One attempt's result. `weight` is set by MISC_CHECK (misc_dynamic) and FILE_CHECK. */
export type CheckOutcome =
  | { ok: true; detail: string; weight?: number }
  | { ok: false; reason: string };

/** One health check kind bound to one target. */
export interface Checker {
  /** The check type, e.g. "HTTP_GET". */
  readonly kind: string;
  /** Runs one attempt; resolves (never rejects) within its own timeouts or soon after `signal`. */
  run(signal: AbortSignal): Promise<CheckOutcome>;
}

/** Where a check connects when the spec has no connect_ip / connect_port. */
export interface CheckTarget {
  address: string;
  port: number;
}

/** Options shared by every kind (keepalived's generic checker options). */
export interface CheckCommon {
  /** Address to check instead of the real server's. */
  connectIp?: string;
  /** Port to check instead of the real server's. */
  connectPort?: number;
  /** Source address for the connection. */
  bindto?: string;
  /** Source port for the connection (keepalived bind_port). */
  bindPort?: number;
  /** SO_BINDTODEVICE on the check socket (keepalived bind_if). */
  bindIf?: string;
  /** SO_MARK on the check socket (keepalived fwmark). */
  fwmark?: number;
  /** Log every failed attempt while the checker is up, retries included (log_all_failures). */
  logAllFailures?: boolean;
  /** Connect (and, for TCP-based kinds, each read) timeout. keepalived default 5 s. */
  connectTimeoutMs: number;
  /** Extra attempts after a failure while the checker is up (keepalived default 1; DNS 3). */
  retry: number;
  /** Delay between a failed attempt and its retry. keepalived default 1 s. */
  delayBeforeRetryMs: number;
  /** Delay from the end of one round to the start of the next. */
  delayLoopMs: number;
  /** The first round starts after `warmupMs * random()`. */
  warmupMs: number;
  /** Start down (alpha) instead of up. */
  alpha: boolean;
  /** Consecutive successful rounds needed to go up (1 = keepalived). */
  rise: number;
  /** Consecutive failed rounds needed to go down (1 = keepalived). */
  fall: number;
}

/** One url of HTTP_GET / SSL_GET. */
export interface UrlSpec {
  path: string;
  /** Accepted status ranges, inclusive; empty = 200-299. */
  statusCodes: Array<[number, number]>;
  /** MD5 hex of the body, lower case. */
  digest?: string;
  /** A JavaScript regular expression searched in the body. */
  regex?: string;
  /** Fail when the regex matches instead of when it does not. */
  regexNoMatch?: boolean;
  /** Host header (and default SNI name). */
  virtualhost?: string;
}

/** HTTP_GET / SSL_GET options. */
export interface HttpCheckSpec extends CheckCommon {
  type: "HTTP_GET" | "SSL_GET";
  urls: UrlSpec[];
  /** "1.0" (default, sent with Connection: close) or "1.1" (Connection: close as well). */
  httpProtocol: "1.0" | "1.1";
  /** Send SNI (SSL_GET). */
  enableSni: boolean;
  /** SNI name; default the url's virtualhost, else the target address. */
  sniName?: string;
  /** Verify the certificate chain and name (SSL_GET); keepalived does not. */
  verifyCert: boolean;
  /** Extra PEM CA certificates for verification. */
  caCerts?: string[];
  /** Body bytes read at most (default 1 MiB); a longer body fails the check. */
  maxBodyBytes?: number;
  /** Bound on a whole url fetch (default 2 x connectTimeoutMs). */
  totalTimeoutMs?: number;
  /**
   * keepalived fast_recovery: after the first round, and while down after a round without a
   * failing url, the next round starts at once instead of after delay_loop.
   */
  fastRecovery?: boolean;
}

/** MISC_CHECK options. */
export interface MiscCheckSpec extends CheckCommon {
  type: "MISC_CHECK";
  /** Command line, split like keepalived (quoted words). */
  miscPath: string;
  /** Script timeout (keepalived default: delay_loop). */
  miscTimeoutMs: number;
  /** Exit 2..255 = up with weight (code - 2). */
  miscDynamic: boolean;
  user?: string;
}

/** DNS query types the DNS_CHECK supports. */
export type DnsType = "A" | "NS" | "CNAME" | "SOA" | "MX" | "TXT" | "AAAA";

/** Every check spec, discriminated by `type`. */
export type CheckSpec =
  | (CheckCommon & { type: "TCP_CHECK" })
  | HttpCheckSpec
  | MiscCheckSpec
  | (CheckCommon & { type: "SMTP_CHECK"; heloName: string })
  | (CheckCommon & { type: "DNS_CHECK"; dnsType: DnsType; dnsName: string })
  | (CheckCommon & {
    type: "UDP_CHECK";
    /** Bytes sent; null = 16 random bytes as keepalived. */
    payload: Uint8Array | null;
    requireReply: boolean;
    /** Reply length bounds (checked with `replyData` only, as keepalived does). */
    minReplyLength: number;
    maxReplyLength: number;
    /** The reply must start with these bytes (keepalived `require_reply HEX`), or null. */
    replyData?: Uint8Array | null;
    /** Bits set here are wildcards in `replyData` (hex digits written `x`). */
    replyMask?: Uint8Array | null;
  })
  | (CheckCommon & { type: "PING_CHECK" })
  | (CheckCommon & {
    type: "FILE_CHECK";
    file: string;
    /** Multiplier for the number in the file; 0 = non-zero means down (keepalived). */
    weightMultiplier: number;
  });

/** Names of every kind. */
export type CheckKind = CheckSpec["type"];

/** keepalived's default `retry` per kind. */
function defaultRetry(kind: CheckKind): number {
  if (kind === "DNS_CHECK") return 3;
  if (kind === "MISC_CHECK" || kind === "FILE_CHECK") return 0;
  return 1;
}

/** Common options with keepalived's defaults, for tests and the config adapter. */
export function commonDefaults(kind: CheckKind, delayLoopMs = 60_000): CheckCommon {
  return {
    connectTimeoutMs: 5000,
    retry: defaultRetry(kind),
    delayBeforeRetryMs: 1000,
    delayLoopMs,
    warmupMs: 0,
    alpha: false,
    rise: 1,
    fall: 1,
  };
}

/** Formats host:port, bracketing IPv6 addresses. */
export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The address and port a spec checks, from connect_ip/connect_port or the target. */
export function checkEndpoint(spec: CheckCommon, target: CheckTarget): CheckTarget {
  return { address: spec.connectIp ?? target.address, port: spec.connectPort ?? target.port };
}

/** A short error string: "ECONNREFUSED" style code when known, else the message. */
export function errorText(e: unknown): string {
  if (e instanceof Deno.errors.ConnectionRefused) return "ECONNREFUSED";
  if (e instanceof Deno.errors.ConnectionReset) return "ECONNRESET";
  if (e instanceof Deno.errors.TimedOut) return "ETIMEDOUT";
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    return e.message;
  }
  return String(e);
}
