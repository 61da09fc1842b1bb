/**
 * TCP_CHECK: up when a TCP connection to the target completes within connect_timeout.
 *
 * @module
 */
import { deadline, openTcp } from "./stream.ts";
import {
  type CheckCommon,
  checkEndpoint,
  type Checker,
  type CheckOutcome,
  type CheckTarget,
  errorText,
  hostPort,
} from "./types.ts";

/** A TCP connect check. */
export class TcpChecker implements Checker {
  readonly kind = "TCP_CHECK";
  readonly #spec: CheckCommon;
  readonly #target: CheckTarget;

  constructor(spec: CheckCommon, target: CheckTarget) {
    this.#spec = spec;
    this.#target = checkEndpoint(spec, target);
  }

  /** One connect attempt. */
  async run(signal: AbortSignal): Promise<CheckOutcome> {
    const where = hostPort(this.#target.address, this.#target.port);
    using dl = deadline(signal, this.#spec.connectTimeoutMs);
    try {
      const s = await openTcp({
        ...this.#target,
        ...(this.#spec.bindto !== undefined ? { bindto: this.#spec.bindto } : {}),
        signal: dl.signal,
      });
      s.close();
      return { ok: true, detail: `connected to ${where}` };
    } catch (e) {
      if (dl.expired) {
        return {
          ok: false,
          reason: `connect to ${where}: timeout after ${this.#spec.connectTimeoutMs} ms`,
        };
      }
      if (signal.aborted) return { ok: false, reason: `connect to ${where}: aborted` };
      return { ok: false, reason: `connect to ${where}: ${errorText(e)}` };
    }
  }
}
