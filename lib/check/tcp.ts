/**
 * TCP_CHECK: up when a TCP connection to the target completes within connect_timeout. The
 * connect runs on the project's own non-blocking sockets (ffi/tcp.ts) and a Reactor: the one
 * passed in, else the shared checker Reactor. Host names (not IP addresses) fall back to
 * `Deno.connect` / `node:net`.
 *
 * @module
 */
import type { Reactor } from "../../ffi/reactor.ts";
import { type ConnectResult, TcpProbe } from "../../ffi/tcp.ts";
import { parseIp } from "../net/ip.ts";
import { leaseCheckReactor } from "./check_reactor.ts";
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

/** Options of a TcpChecker. */
export interface TcpCheckerOptions {
  /** Where connects wait; default the shared checker Reactor, leased per attempt. */
  reactor?: Reactor;
  /** See `TcpProbeTarget.pollFirst` (default true); false always waits on the Reactor. */
  pollFirst?: boolean;
}

/** A TCP connect check. */
export class TcpChecker implements Checker {
  readonly kind = "TCP_CHECK";
  readonly #spec: CheckCommon;
  readonly #target: CheckTarget;
  readonly #where: string;
  readonly #reactor: Reactor | null;
  readonly #probe: TcpProbe | null;
  readonly #probeError: string | null;
  readonly #ok: CheckOutcome;

  /** Builds the probe once: addresses are parsed and encoded here, not per attempt. */
  constructor(spec: CheckCommon, target: CheckTarget, opts: TcpCheckerOptions = {}) {
    this.#spec = spec;
    this.#target = checkEndpoint(spec, target);
    this.#where = hostPort(this.#target.address, this.#target.port);
    this.#reactor = opts.reactor ?? null;
    this.#ok = { ok: true, detail: `connected to ${this.#where}` };
    let probe: TcpProbe | null = null;
    let probeError: string | null = null;
    const address = parseIp(this.#target.address);
    if (address !== null) {
      try {
        const bindto = spec.bindto === undefined ? undefined : parseIp(spec.bindto);
        if (bindto === null) {
          throw new TypeError(`Invalid bindto "${spec.bindto}": not an IP address`);
        }
        probe = new TcpProbe({
          address: address.bytes,
          port: this.#target.port,
          ...(bindto !== undefined ? { bindto: bindto.bytes } : {}),
          ...(spec.bindPort !== undefined ? { bindPort: spec.bindPort } : {}),
          ...(spec.bindIf !== undefined ? { bindIf: spec.bindIf } : {}),
          ...(spec.fwmark !== undefined ? { fwmark: spec.fwmark } : {}),
          ...(opts.pollFirst !== undefined ? { pollFirst: opts.pollFirst } : {}),
        });
      } catch (e) {
        probeError = (e as Error).message;
      }
    }
    this.#probe = probe;
    this.#probeError = probeError;
  }

  /** One connect attempt. */
  run(signal: AbortSignal): Promise<CheckOutcome> {
    if (this.#probeError !== null) {
      return Promise.resolve({
        ok: false,
        reason: `connect to ${this.#where}: ${this.#probeError}`,
      });
    }
    if (this.#probe === null) return this.#runStream(signal);
    if (this.#reactor !== null) {
      return this.#probe.connect(this.#reactor, this.#spec.connectTimeoutMs, signal)
        .then((r) => this.#outcome(r));
    }
    const lease = leaseCheckReactor();
    return this.#probe.connect(lease.reactor, this.#spec.connectTimeoutMs, signal).then((r) => {
      lease.release();
      return this.#outcome(r);
    });
  }

  #outcome(r: ConnectResult): CheckOutcome {
    if (r.ok) return this.#ok;
    switch (r.kind) {
      case "timeout":
        return {
          ok: false,
          reason: `connect to ${this.#where}: timeout after ${this.#spec.connectTimeoutMs} ms`,
        };
      case "aborted":
        return { ok: false, reason: `connect to ${this.#where}: aborted` };
      case "error": {
        const call = r.syscall === "connect" ? "" : `${r.syscall}: `;
        return { ok: false, reason: `connect to ${this.#where}: ${call}${r.code}` };
      }
    }
  }

  async #runStream(signal: AbortSignal): Promise<CheckOutcome> {
    const where = this.#where;
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
