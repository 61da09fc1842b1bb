/**
 * Gratuitous ARP and unsolicited neighbour advertisements for a master's VIPs, with
 * keepalived's timing by default: a burst of `repeat` on becoming master, another burst
 * `delayMs` later, and an optional periodic refresh (REFERENCE.md section 3).
 *
 * @module
 */
import { PacketSocket } from "../../ffi/packet.ts";
import { Errno, SyscallError } from "../../ffi/errno.ts";
import { gratuitousArp } from "../net/arp.ts";
import { unsolicitedNa } from "../net/nd.ts";
import type { Clock, Timer } from "../runtime/clock.ts";
import type { Logger } from "../runtime/log.ts";

const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;

/** Announcement timing (keepalived's garp_master_* and garp_lower_prio_*). */
export interface AnnounceTiming {
  /** Announcements per VIP in each burst (garp_master_repeat, default 5). */
  repeat: number;
  /** Delay of the second burst (garp_master_delay, default 5 s; 0 = none). */
  delayMs: number;
  /** Period of refresh bursts while master (garp_master_refresh; 0 = off). */
  refreshMs: number;
  /** Announcements per VIP in a refresh burst (garp_master_refresh_repeat; default 1). */
  refreshRepeat?: number;
  /** Gap between announcements within a burst (garp_interval; 0 = back to back). */
  intervalMs: number;
  /**
   * Announcements per VIP when a master hears a lower-priority advert (garp_lower_prio_repeat;
   * default 0 = none; keepalived's own default is garp_master_repeat, filled in by the config).
   */
  lowerPrioRepeat?: number;
  /** Delay of a second such burst (garp_lower_prio_delay; 0 = none). */
  lowerPrioDelayMs?: number;
}

/** One address to announce on one interface. */
export interface AnnounceTarget {
  ifname: string;
  ifindex: number;
  mac: Uint8Array;
  family: "ipv4" | "ipv6";
  address: Uint8Array;
  /** IPv6: set the Router flag in the NA (the interface forwards). */
  router?: boolean;
}

/** Frames for a list of targets, in keepalived's order (repeat outer, addresses inner). */
export function announceFrames(
  targets: AnnounceTarget[],
): { target: AnnounceTarget; frame: Uint8Array }[] {
  return targets.map((t) => ({
    target: t,
    frame: t.family === "ipv4"
      ? gratuitousArp(t.mac, t.address)
      : unsolicitedNa(t.mac, t.address, { router: t.router === true }),
  }));
}

/** Opens AF_PACKET sockets per (interface, ethertype), shared and kept until disposed. */
export class FramePort implements Disposable {
  readonly #socks = new Map<string, PacketSocket>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * Sends one frame; logs (rate-limited by the caller) and returns false on failure. A socket
   * whose interface went down holds ENETDOWN for its next send (the kernel's packet notifier
   * sets sk_err): that send is the first after a flap, and is made again at once, so the first
   * burst after a flap loses nothing.
   */
  send(t: AnnounceTarget, frame: Uint8Array): boolean {
    const ethertype = t.family === "ipv4" ? ETH_P_ARP : ETH_P_IPV6;
    const key = `${t.ifname}/${t.ifindex}/${ethertype}`;
    try {
      let s = this.#socks.get(key);
      if (s === undefined) {
        s = PacketSocket.open(t.ifindex, t.ifname, ethertype);
        this.#socks.set(key, s);
      }
      try {
        return s.send(frame);
      } catch (e) {
        if (!(e instanceof SyscallError) || e.errno !== Errno.ENETDOWN) throw e;
        return s.send(frame);
      }
    } catch (e) {
      this.#log.warn(`cannot announce on ${t.ifname}`, { error: (e as Error).message });
      const s = this.#socks.get(key);
      if (s !== undefined) {
        s.close();
        this.#socks.delete(key);
      }
      return false;
    }
  }

  [Symbol.dispose](): void {
    for (const s of this.#socks.values()) s.close();
    this.#socks.clear();
  }
}

/** Announces one instance's VIPs while it is master. */
export class Announcer implements Disposable {
  readonly #clock: Clock;
  readonly #port: { send(t: AnnounceTarget, frame: Uint8Array): boolean };
  #timing: AnnounceTiming;
  #timers: Timer[] = [];
  #sent = 0;

  constructor(
    clock: Clock,
    port: { send(t: AnnounceTarget, frame: Uint8Array): boolean },
    timing: AnnounceTiming,
  ) {
    this.#clock = clock;
    this.#port = port;
    this.#timing = timing;
  }

  /** Total frames sent (for status). */
  get sent(): number {
    return this.#sent;
  }

  /** Changes timing for the next start. */
  setTiming(t: AnnounceTiming): void {
    this.#timing = t;
  }

  /**
   * Starts announcing `targets()` (re-read at each burst, so a VIP list change or a new MAC
   * is honoured): a burst now, another after delayMs, then a refresh every refreshMs.
   */
  start(targets: () => AnnounceTarget[]): void {
    this.stop();
    this.#burst(targets);
    const { delayMs, refreshMs } = this.#timing;
    if (delayMs > 0) {
      this.#timers.push(this.#clock.setTimer(delayMs, () => this.#burst(targets)));
    }
    if (refreshMs > 0) {
      // keepalived vrrp_state_master_tx(): garp_refresh_rep announcements per refresh.
      const rep = this.#timing.refreshRepeat ?? 1;
      const tick = () => {
        this.#burst(targets, rep);
        this.#timers.push(this.#clock.setTimer(refreshMs, tick));
      };
      this.#timers.push(this.#clock.setTimer(refreshMs, tick));
    }
  }

  /**
   * A master heard a lower-priority advert (keepalived vrrp_state_master_rx(): "we receive a
   * lower prio adv we just refresh remote ARP cache"): garp_lower_prio_repeat announcements
   * now and, with garp_lower_prio_delay, as many again after it. Nothing when the repeat is 0.
   */
  lowerPriority(targets: () => AnnounceTarget[]): void {
    const rep = this.#timing.lowerPrioRepeat ?? 0;
    if (rep <= 0) return;
    this.#burst(targets, rep);
    const delayMs = this.#timing.lowerPrioDelayMs ?? 0;
    if (delayMs > 0) {
      this.#timers.push(this.#clock.setTimer(delayMs, () => this.#burst(targets, rep)));
    }
  }

  /** Sends one immediate burst without touching the schedule (a VIP put back by hand). */
  burstNow(targets: AnnounceTarget[]): void {
    this.#burst(() => targets);
  }

  #burst(targets: () => AnnounceTarget[], repeat = this.#timing.repeat): void {
    const frames = announceFrames(targets());
    const { intervalMs } = this.#timing;
    if (intervalMs <= 0) {
      for (let i = 0; i < repeat; i++) {
        for (const f of frames) if (this.#port.send(f.target, f.frame)) this.#sent++;
      }
      return;
    }
    // Spread: one announcement of every address per interval.
    let round = 0;
    const step = () => {
      for (const f of frames) if (this.#port.send(f.target, f.frame)) this.#sent++;
      if (++round < repeat) this.#timers.push(this.#clock.setTimer(intervalMs, step));
    };
    step();
  }

  /** Cancels pending bursts (leaving MASTER). */
  stop(): void {
    for (const t of this.#timers) t.cancel();
    this.#timers = [];
  }

  [Symbol.dispose](): void {
    this.stop();
  }
}
