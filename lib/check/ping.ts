/**
 * PING_CHECK: one ICMP / ICMPv6 echo request; up when the matching reply (same id and sequence,
 * from the target) arrives within connect_timeout.
 *
 * @module
 */
import type { IcmpService } from "./icmp.ts";
import type { CheckCommon, Checker, CheckOutcome, CheckTarget } from "./types.ts";

/** A PING_CHECK using a shared ICMP service. */
export class PingChecker implements Checker {
  readonly kind = "PING_CHECK";
  readonly #spec: CheckCommon;
  readonly #address: string;
  readonly #icmp: () => IcmpService;

  constructor(spec: CheckCommon, target: CheckTarget, icmp: () => IcmpService) {
    this.#spec = spec;
    this.#address = spec.connectIp ?? target.address;
    this.#icmp = icmp;
  }

  /** One echo round trip. */
  async run(signal: AbortSignal): Promise<CheckOutcome> {
    const r = await this.#icmp().echo(this.#address, this.#spec.connectTimeoutMs, signal);
    if (r.ok) {
      return { ok: true, detail: `echo reply from ${this.#address} in ${r.rttMs.toFixed(2)} ms` };
    }
    return { ok: false, reason: `ping ${this.#address}: ${r.reason}` };
  }
}
