/**
 * HTTP_GET and SSL_GET: fetch every url, and pass only when each answers with an accepted status
 * (default 200-299), the configured MD5 digest of the body, and the regex (found, or not found
 * with `regexNoMatch`). The request always carries `Connection: close`; reads are bounded in
 * bytes (headers 16 KiB, body `maxBodyBytes`) and in time (connect within `connectTimeoutMs`,
 * the whole url within `totalTimeoutMs`, default twice the connect timeout).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { HttpResponseParser } from "./http_response.ts";
import { type ByteStream, deadline, openTcp, openTls } from "./stream.ts";
import {
  checkEndpoint,
  type Checker,
  type CheckOutcome,
  type CheckTarget,
  errorText,
  hostPort,
  type HttpCheckSpec,
  type UrlSpec,
} from "./types.ts";

/** MD5 of `bytes` as lower-case hex (keepalived's genhash digest). */
export function md5Hex(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/** Whether `status` is accepted by `ranges` (empty = 200-299). */
export function statusAccepted(status: number, ranges: Array<[number, number]>): boolean {
  if (ranges.length === 0) return status >= 200 && status <= 299;
  return ranges.some(([lo, hi]) => status >= lo && status <= hi);
}

/** Builds the GET request for one url. */
export function buildRequest(
  url: UrlSpec,
  protocol: "1.0" | "1.1",
  target: CheckTarget,
): Uint8Array {
  const defaultPort = target.port === 80 || target.port === 443;
  const host = url.virtualhost ??
    (defaultPort ? bracket(target.address) : hostPort(target.address, target.port));
  const path = url.path === "" ? "/" : url.path;
  return new TextEncoder().encode(
    `GET ${path} HTTP/${protocol}\r\nUser-Agent: haagent\r\nHost: ${host}\r\n` +
      `Accept: */*\r\nConnection: close\r\n\r\n`,
  );
}

function bracket(a: string): string {
  return a.includes(":") ? `[${a}]` : a;
}

/** An HTTP_GET / SSL_GET checker. */
export class HttpChecker implements Checker {
  readonly kind: "HTTP_GET" | "SSL_GET";
  readonly #spec: HttpCheckSpec;
  readonly #target: CheckTarget;
  readonly #regexes: Array<RegExp | string | undefined>;

  constructor(spec: HttpCheckSpec, target: CheckTarget) {
    this.kind = spec.type;
    this.#spec = spec;
    this.#target = checkEndpoint(spec, target);
    this.#regexes = spec.urls.map((u) => {
      if (u.regex === undefined) return undefined;
      try {
        return new RegExp(u.regex);
      } catch (e) {
        return `bad regex ${JSON.stringify(u.regex)}: ${(e as Error).message}`;
      }
    });
  }

  /** Fetches every url in turn; the first failure ends the attempt. */
  async run(signal: AbortSignal): Promise<CheckOutcome> {
    if (this.#spec.urls.length === 0) return { ok: false, reason: "no url configured" };
    const details: string[] = [];
    for (const [i, url] of this.#spec.urls.entries()) {
      const r = await this.#fetch(url, this.#regexes[i], signal);
      if (!r.ok) return r;
      details.push(r.detail);
    }
    return { ok: true, detail: details.join("; ") };
  }

  async #fetch(
    url: UrlSpec,
    regex: RegExp | string | undefined,
    signal: AbortSignal,
  ): Promise<CheckOutcome> {
    const spec = this.#spec;
    const t = this.#target;
    const where = `${hostPort(t.address, t.port)}${url.path}`;
    if (typeof regex === "string") return { ok: false, reason: regex };
    const totalMs = spec.totalTimeoutMs ?? 2 * spec.connectTimeoutMs;
    using total = deadline(signal, totalMs);
    let stream: ByteStream;
    {
      using conn = deadline(total.signal, spec.connectTimeoutMs);
      try {
        const base = {
          address: t.address,
          port: t.port,
          signal: total.signal,
          ...(spec.bindto !== undefined ? { bindto: spec.bindto } : {}),
          ...(spec.bindPort !== undefined ? { bindPort: spec.bindPort } : {}),
        };
        const connecting = spec.type === "SSL_GET"
          ? openTls({
            ...base,
            signal: conn.signal,
            verify: spec.verifyCert,
            ...(spec.caCerts !== undefined ? { caCerts: spec.caCerts } : {}),
            ...(spec.enableSni ? { servername: spec.sniName ?? url.virtualhost ?? t.address } : {}),
          })
          : openTcp({ ...base, signal: conn.signal });
        stream = await connecting;
      } catch (e) {
        const what = `${spec.type === "SSL_GET" ? "TLS connect" : "connect"} to ${
          hostPort(t.address, t.port)
        }`;
        if (conn.expired) {
          return { ok: false, reason: `${what}: timeout after ${spec.connectTimeoutMs} ms` };
        }
        if (total.expired) return { ok: false, reason: `${what}: timeout after ${totalMs} ms` };
        if (signal.aborted) return { ok: false, reason: `${what}: aborted` };
        return { ok: false, reason: `${what}: ${errorText(e)}` };
      }
    }
    // The TLS stream was tied to the connect deadline; re-tie every stream to the total one.
    const onTotal = () => stream.close();
    total.signal.addEventListener("abort", onTotal, { once: true });
    try {
      await stream.write(buildRequest(url, spec.httpProtocol, t));
      const parser = new HttpResponseParser({ maxBodyBytes: spec.maxBodyBytes ?? 1024 * 1024 });
      let res = parser.push(new Uint8Array(0));
      while (res.state === "need-more") {
        const chunk = await stream.read();
        res = chunk === null ? parser.end() : parser.push(chunk);
      }
      if (res.state === "error") return { ok: false, reason: `${res.reason} from ${where}` };
      const r = res.value;
      if (!statusAccepted(r.status, url.statusCodes)) {
        return { ok: false, reason: `HTTP ${r.status} from ${where}` };
      }
      if (url.digest !== undefined) {
        const got = md5Hex(r.body);
        if (got !== url.digest.toLowerCase()) {
          return { ok: false, reason: `digest ${got} from ${where}, expected ${url.digest}` };
        }
      }
      if (regex !== undefined) {
        const found = regex.test(new TextDecoder().decode(r.body));
        if (found === (url.regexNoMatch ?? false)) {
          return {
            ok: false,
            reason: `regex ${regex} ${found ? "matched" : "not matched"} in body from ${where}`,
          };
        }
      }
      return { ok: true, detail: `HTTP ${r.status} from ${where}` };
    } catch (e) {
      if (total.expired) return { ok: false, reason: `timeout after ${totalMs} ms on ${where}` };
      if (signal.aborted) return { ok: false, reason: `aborted on ${where}` };
      return { ok: false, reason: `${errorText(e)} on ${where}` };
    } finally {
      total.signal.removeEventListener("abort", onTotal);
      stream.close();
    }
  }
}
