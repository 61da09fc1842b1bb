/**
 * SMTP_CHECK: connect, read the 220 greeting, send `HELO helo_name`, expect 250, send QUIT
 * (keepalived check_smtp.c). Each reply is bounded (4 KiB) and each step waits at most
 * `connectTimeoutMs`.
 *
 * @module
 */
import { type ByteStream, deadline, openTcp } from "./stream.ts";
import {
  type CheckCommon,
  checkEndpoint,
  type Checker,
  type CheckOutcome,
  type CheckTarget,
  errorText,
  hostPort,
} from "./types.ts";

/** One SMTP reply parse result (RFC 5321 4.2: "250-more" lines continue, "250 last" ends). */
export type SmtpReply =
  | { state: "need-more" }
  | { state: "done"; code: number; text: string; consumed: number }
  | { state: "error"; reason: string };

const MAX_REPLY = 4096;

/** Parses one (possibly multi-line) reply from the start of `data`. */
export function parseSmtpReply(data: Uint8Array): SmtpReply {
  const text = new TextDecoder("latin1").decode(data.subarray(0, MAX_REPLY + 2));
  let pos = 0;
  const lines: string[] = [];
  for (;;) {
    const nl = text.indexOf("\n", pos);
    if (nl < 0) {
      return data.length > MAX_REPLY
        ? { state: "error", reason: `reply over ${MAX_REPLY} bytes` }
        : { state: "need-more" };
    }
    const line = text.slice(pos, nl).replace(/\r$/, "");
    pos = nl + 1;
    const m = /^(\d{3})([ -]?)(.*)$/.exec(line);
    if (m === null) return { state: "error", reason: `bad reply line "${line.slice(0, 40)}"` };
    lines.push(m[3]!);
    if (m[2] !== "-") {
      return { state: "done", code: Number(m[1]), text: lines.join(" "), consumed: pos };
    }
  }
}

/** An SMTP_CHECK. */
export class SmtpChecker implements Checker {
  readonly kind = "SMTP_CHECK";
  readonly #spec: CheckCommon & { heloName: string };
  readonly #target: CheckTarget;

  constructor(spec: CheckCommon & { heloName: string }, target: CheckTarget) {
    this.#spec = spec;
    this.#target = checkEndpoint(spec, target);
  }

  /** One SMTP dialogue. */
  async run(signal: AbortSignal): Promise<CheckOutcome> {
    const where = hostPort(this.#target.address, this.#target.port);
    const ms = this.#spec.connectTimeoutMs;
    let stream: ByteStream | undefined;
    let step = "connect";
    let buf = new Uint8Array(0);
    const reply = async (): Promise<SmtpReply> => {
      using dl = deadline(signal, ms);
      const onAbort = () => stream?.close();
      dl.signal.addEventListener("abort", onAbort, { once: true });
      try {
        for (;;) {
          const r = parseSmtpReply(buf);
          if (r.state === "done") buf = buf.slice(r.consumed);
          if (r.state !== "need-more") return r;
          const c = await stream!.read();
          if (c === null) return { state: "error", reason: "connection closed" };
          const next = new Uint8Array(buf.length + c.length);
          next.set(buf);
          next.set(c, buf.length);
          buf = next;
        }
      } catch (e) {
        if (dl.expired) return { state: "error", reason: `timeout after ${ms} ms` };
        throw e;
      } finally {
        dl.signal.removeEventListener("abort", onAbort);
      }
    };
    try {
      {
        using dl = deadline(signal, ms);
        try {
          stream = await openTcp({
            ...this.#target,
            ...(this.#spec.bindto !== undefined ? { bindto: this.#spec.bindto } : {}),
            ...(this.#spec.bindPort !== undefined ? { bindPort: this.#spec.bindPort } : {}),
            signal: dl.signal,
          });
        } catch (e) {
          if (dl.expired) {
            return { ok: false, reason: `connect to ${where}: timeout after ${ms} ms` };
          }
          return { ok: false, reason: `connect to ${where}: ${errorText(e)}` };
        }
      }
      step = "greeting";
      const greet = await reply();
      if (greet.state === "error") {
        return { ok: false, reason: `SMTP ${step} from ${where}: ${greet.reason}` };
      }
      if (greet.state === "done" && greet.code !== 220) {
        return { ok: false, reason: `SMTP ${step} ${greet.code} from ${where}` };
      }
      step = "HELO";
      await stream.write(new TextEncoder().encode(`HELO ${this.#spec.heloName}\r\n`));
      const helo = await reply();
      if (helo.state === "error") {
        return { ok: false, reason: `SMTP ${step} from ${where}: ${helo.reason}` };
      }
      if (helo.state === "done" && helo.code !== 250) {
        return { ok: false, reason: `SMTP ${step} answered ${helo.code} from ${where}` };
      }
      step = "QUIT";
      await stream.write(new TextEncoder().encode("QUIT\r\n"));
      return { ok: true, detail: `SMTP 250 from ${where}` };
    } catch (e) {
      if (signal.aborted) return { ok: false, reason: `SMTP ${step} on ${where}: aborted` };
      return { ok: false, reason: `SMTP ${step} on ${where}: ${errorText(e)}` };
    } finally {
      stream?.close();
    }
  }
}
