/**
 * `makeChecker`: builds the checker for a spec and a target.
 *
 * @module
 */
import type { Reactor } from "../../ffi/reactor.ts";
import { DnsChecker } from "./dns.ts";
import { FileChecker } from "./file.ts";
import { HttpChecker } from "./http.ts";
import { defaultIcmp } from "./check_reactor.ts";
import type { IcmpService } from "./icmp.ts";
import { MiscChecker } from "./misc.ts";
import { PingChecker } from "./ping.ts";
import { SmtpChecker } from "./smtp.ts";
import { TcpChecker } from "./tcp.ts";
import type { Checker, CheckSpec, CheckTarget } from "./types.ts";
import { UdpChecker } from "./udp.ts";

/** Shared services some kinds need; the agent passes its own (built on its Reactor). */
export interface CheckerDeps {
  /** ICMP for PING_CHECK and UDP_CHECK errors; default `defaultIcmp()`, opened lazily. */
  icmp?: () => IcmpService;
  /** The Reactor TCP_CHECK connects wait on; default a shared one that runs while in use. */
  reactor?: Reactor;
}

/** The checker for `spec` against `target` (the real server's address and port). */
export function makeChecker(spec: CheckSpec, target: CheckTarget, deps: CheckerDeps = {}): Checker {
  const icmp = deps.icmp ?? defaultIcmp;
  switch (spec.type) {
    case "TCP_CHECK":
      return new TcpChecker(
        spec,
        target,
        deps.reactor !== undefined ? { reactor: deps.reactor } : {},
      );
    case "HTTP_GET":
    case "SSL_GET":
      return new HttpChecker(spec, target);
    case "MISC_CHECK":
      return new MiscChecker(spec);
    case "SMTP_CHECK":
      return new SmtpChecker(spec, target);
    case "DNS_CHECK":
      return new DnsChecker(spec, target);
    case "UDP_CHECK":
      return new UdpChecker(spec, target, icmp);
    case "PING_CHECK":
      return new PingChecker(spec, target, icmp);
    case "FILE_CHECK":
      return new FileChecker(spec.file, spec.weightMultiplier);
    default: {
      const never: never = spec;
      throw new TypeError(`Unknown check type ${(never as { type: string }).type}`);
    }
  }
}
