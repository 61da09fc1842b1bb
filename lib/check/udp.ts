/**
 * UDP_CHECK (keepalived check_udp.c): send the payload (16 random bytes by default); an ICMP
 * error quoting our datagram (port / host unreachable) is a failure. With `requireReply` a reply
 * within connect_timeout is needed; with `replyData` (keepalived `require_reply HEX`) its length
 * must lie in [min, max] and it must start with the data (wildcard nibbles masked); without
 * `requireReply`, silence for connect_timeout is success. ICMP errors are seen through the shared
 * ICMP service (Node's dgram in Deno does not report ECONNREFUSED on UDP sockets); when no raw
 * socket can be opened, only replies are checked.
 *
 * @module
 */
import dgram from "node:dgram";
import type { IcmpService } from "./icmp.ts";
import {
  type CheckCommon,
  checkEndpoint,
  type Checker,
  type CheckOutcome,
  type CheckTarget,
  hostPort,
} from "./types.ts";

/** UDP_CHECK options. */
export type UdpSpec = CheckCommon & {
  payload: Uint8Array | null;
  requireReply: boolean;
  minReplyLength: number;
  maxReplyLength: number;
  replyData?: Uint8Array | null;
  replyMask?: Uint8Array | null;
};

/** Judges a reply length against the bounds (0 = unbounded). */
export function replyLengthOk(len: number, min: number, max: number): boolean {
  return len >= min && (max === 0 || len <= max);
}

/**
 * keepalived's check_udp_reply: with expected data, the reply's length must lie in
 * [min, max] and its first min(length, data length) bytes must equal the data outside the
 * mask's wildcard bits; without expected data any reply will do. Returns what is wrong, or null.
 */
export function replyProblem(reply: Uint8Array, s: UdpSpec): string | null {
  const data = s.replyData ?? null;
  if (data === null) return null;
  if (!replyLengthOk(reply.byteLength, s.minReplyLength, s.maxReplyLength)) {
    return `reply of ${reply.byteLength} bytes (expected ${s.minReplyLength}-${s.maxReplyLength})`;
  }
  const n = Math.min(reply.byteLength, data.byteLength);
  for (let i = 0; i < n; i++) {
    const care = ~(s.replyMask?.[i] ?? 0) & 0xff;
    if (((reply[i]! ^ data[i]!) & care) !== 0) return `reply data mismatch at byte ${i}`;
  }
  return null;
}

/** A UDP_CHECK. */
export class UdpChecker implements Checker {
  readonly kind = "UDP_CHECK";
  readonly #spec: UdpSpec;
  readonly #target: CheckTarget;
  readonly #icmp: (() => IcmpService) | null;

  constructor(spec: UdpSpec, target: CheckTarget, icmp: (() => IcmpService) | null) {
    this.#spec = spec;
    this.#target = checkEndpoint(spec, target);
    this.#icmp = icmp;
  }

  /** One datagram exchange. */
  run(signal: AbortSignal): Promise<CheckOutcome> {
    const s = this.#spec;
    const t = this.#target;
    const where = hostPort(t.address, t.port);
    const payload = s.payload ?? crypto.getRandomValues(new Uint8Array(16));
    return new Promise((resolve) => {
      const sock = dgram.createSocket(t.address.includes(":") ? "udp6" : "udp4");
      let watch: Disposable | null = null;
      let done = false;
      const finish = (o: CheckOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        watch?.[Symbol.dispose]();
        try {
          sock.close();
        } catch { /* closed */ }
        resolve(o);
      };
      const timer = setTimeout(() => {
        if (s.requireReply) {
          finish({
            ok: false,
            reason: `no UDP reply from ${where} within ${s.connectTimeoutMs} ms`,
          });
        } else finish({ ok: true, detail: `no ICMP error from ${where}` });
      }, s.connectTimeoutMs);
      const onAbort = () => finish({ ok: false, reason: `UDP to ${where}: aborted` });
      signal.addEventListener("abort", onAbort, { once: true });
      if (signal.aborted) return onAbort();
      sock.on(
        "error",
        (e: Error) => finish({ ok: false, reason: `UDP to ${where}: ${e.message}` }),
      );
      sock.on("message", (m: Uint8Array, rinfo: { port: number }) => {
        if (rinfo.port !== t.port) return;
        const bad = replyProblem(m, s);
        if (bad !== null) return finish({ ok: false, reason: `UDP ${bad} from ${where}` });
        finish({ ok: true, detail: `UDP reply of ${m.byteLength} bytes from ${where}` });
      });
      sock.bind(s.bindPort ?? 0, s.bindto ?? (t.address.includes(":") ? "::" : "0.0.0.0"), () => {
        if (done) return;
        if (this.#icmp !== null) {
          try {
            watch = this.#icmp().watchUdp(
              t.address,
              sock.address().port,
              t.port,
              (e) =>
                finish({ ok: false, reason: `UDP to ${where}: ICMP ${e.what} from ${e.from}` }),
            );
          } catch { /* no raw socket: replies only */ }
        }
        sock.send(payload, t.port, t.address, (e: Error | null) => {
          if (e) finish({ ok: false, reason: `UDP to ${where}: ${e.message}` });
        });
      });
    });
  }
}
