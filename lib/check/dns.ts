/**
 * DNS_CHECK: send one UDP query and require a response with the same id, QR set, RCODE 0
 * (keepalived check_dns.c), and at least one answer record of the queried type (stricter than
 * keepalived, which accepts an empty NOERROR). Responses with another id are ignored.
 *
 * @module
 */
import dgram from "node:dgram";
import { decodeMessage, DNS_TYPES, encodeQuery } from "./dns_codec.ts";
import {
  type CheckCommon,
  checkEndpoint,
  type Checker,
  type CheckOutcome,
  type CheckTarget,
  type DnsType,
  hostPort,
} from "./types.ts";

/** A DNS_CHECK. */
export class DnsChecker implements Checker {
  readonly kind = "DNS_CHECK";
  readonly #spec: CheckCommon & { dnsType: DnsType; dnsName: string };
  readonly #target: CheckTarget;

  constructor(spec: CheckCommon & { dnsType: DnsType; dnsName: string }, target: CheckTarget) {
    this.#spec = spec;
    this.#target = checkEndpoint(spec, target);
  }

  /** One query. */
  run(signal: AbortSignal): Promise<CheckOutcome> {
    const t = this.#target;
    const where = hostPort(t.address, t.port);
    const type = DNS_TYPES[this.#spec.dnsType];
    const id = crypto.getRandomValues(new Uint16Array(1))[0]!;
    const query = encodeQuery(id, this.#spec.dnsName, type);
    const ms = this.#spec.connectTimeoutMs;
    return new Promise((resolve) => {
      const sock = dgram.createSocket(t.address.includes(":") ? "udp6" : "udp4");
      let done = false;
      const finish = (o: CheckOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        try {
          sock.close();
        } catch { /* closed */ }
        resolve(o);
      };
      const timer = setTimeout(
        () =>
          finish({
            ok: false,
            reason:
              `DNS ${this.#spec.dnsType} ${this.#spec.dnsName} to ${where}: timeout after ${ms} ms`,
          }),
        ms,
      );
      const onAbort = () => finish({ ok: false, reason: `DNS to ${where}: aborted` });
      signal.addEventListener("abort", onAbort, { once: true });
      if (signal.aborted) return onAbort();
      sock.on(
        "error",
        (e: Error) => finish({ ok: false, reason: `DNS to ${where}: ${e.message}` }),
      );
      sock.on("message", (m: Uint8Array, rinfo: { address: string; port: number }) => {
        if (rinfo.port !== t.port) return;
        const d = decodeMessage(new Uint8Array(m.buffer, m.byteOffset, m.byteLength));
        if (!d.ok) return; // keepalived waits on for a proper answer until the timeout
        const r = d.value;
        if (r.id !== id || !r.qr) return;
        if (r.rcode !== 0) {
          return finish({ ok: false, reason: `DNS rcode ${r.rcode} from ${where}` });
        }
        const n = r.answers.filter((a) => a.type === type).length;
        if (n === 0) {
          return finish({
            ok: false,
            reason: `DNS no ${this.#spec.dnsType} answer for ${this.#spec.dnsName} from ${where}`,
          });
        }
        finish({ ok: true, detail: `DNS ${n} ${this.#spec.dnsType} answer(s) from ${where}` });
      });
      const send = () =>
        sock.send(query, t.port, t.address, (e: Error | null) => {
          if (e) finish({ ok: false, reason: `DNS to ${where}: ${e.message}` });
        });
      const s = this.#spec;
      if (s.bindto !== undefined || s.bindPort !== undefined) {
        sock.bind(s.bindPort ?? 0, s.bindto ?? (t.address.includes(":") ? "::" : "0.0.0.0"), send);
      } else send();
    });
  }
}
