/**
 * The process-wide I/O of checkers that were given none (checks run without an agent: tests,
 * benchmarks, fixtures; the agent passes its own Reactor and ICMP service to `makeChecker`).
 * This module is the only place that holds such defaults. The Reactor runs only while leased,
 * and is closed once no lease is held for `LINGER_MS`, through an unref'd timer, so it never
 * keeps a finished process alive for longer than that; the default ICMP service holds a lease
 * from its first use on.
 *
 * @module
 */
import { Reactor } from "../../ffi/reactor.ts";
import { failureLogger, log } from "../runtime/log.ts";
import { IcmpService } from "./icmp.ts";

const LINGER_MS = 1000;

/** A hold on the shared Reactor; `release()` once the attempt that needed it settled. */
export interface ReactorLease {
  readonly reactor: Reactor;
  release(): void;
}

let shared: Reactor | null = null;
let leases = 0;
let linger: ReturnType<typeof setTimeout> | undefined;

function closeIdle(): void {
  linger = undefined;
  if (leases > 0 || shared === null) return;
  shared.close();
  shared = null;
}

/** Takes a lease on the shared Reactor, starting it when needed. */
export function leaseCheckReactor(): ReactorLease {
  if (linger !== undefined) {
    clearTimeout(linger);
    linger = undefined;
  }
  if (shared === null) {
    const r = new Reactor({ onFailure: failureLogger(log.child("reactor")) });
    shared = r;
    r.run().catch(() => {}).finally(() => {
      if (shared === r) shared = null;
    });
  }
  const reactor = shared;
  leases++;
  let released = false;
  return {
    reactor,
    release() {
      if (released) return;
      released = true;
      leases--;
      if (leases === 0 && linger === undefined) {
        const t = setTimeout(closeIdle, LINGER_MS);
        Deno.unrefTimer(t);
        linger = t;
      }
    },
  };
}

let icmp: IcmpService | null = null;

/** The ICMP service of checkers given none, on a lease of the shared Reactor kept from now on. */
export function defaultIcmp(): IcmpService {
  icmp ??= new IcmpService(leaseCheckReactor().reactor);
  return icmp;
}

/** How many leases are held (for tests). */
export function checkReactorLeases(): number {
  return leases;
}

/** Whether the shared Reactor exists (it is closed `LINGER_MS` after the last lease). */
export function checkReactorOpen(): boolean {
  return shared !== null;
}
