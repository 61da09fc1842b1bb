/**
 * The VRRP state machine of one virtual router (RFC 5798 section 6 with keepalived's
 * additions: FAULT, preempt_delay, sync-group forcing). Pure: it takes events and an injected
 * clock and emits actions; an executor (lib/vrrp/runner.ts) sends packets and moves addresses.
 *
 * The machine holds the whole state of the router: the state itself, every fault input (the
 * interface's presence, its source address and carrier, tracking, the sync group) and the
 * effective priority. Every transition goes through one entry function, `#enter`, which runs
 * the exit actions of the old state and the entry actions of the new one.
 *
 * Choices, where the RFC leaves room or keepalived differs:
 * - Only the address owner (priority 255) starts as MASTER; a non-owner with initial state
 *   MASTER starts as BACKUP, as keepalived does. `nopreempt` is ignored with initial state
 *   MASTER (keepalived: "nopreempt only works with initial state BACKUP").
 * - preempt_delay (keepalived semantic): a lower-priority master is tolerated for
 *   `preemptDelayMs` counted from the first lower-priority advert seen since we entered BACKUP
 *   or last heard a master of priority >= ours; within that window its adverts reset our
 *   Master_Down_Timer, after it they are discarded so the timer takes us to MASTER.
 * - A MASTER that hears a lower-priority master answers with an advert at once (RFC 9568).
 * - Actions on becoming MASTER: send-advert, add-vips, announce, state. On leaving MASTER:
 *   remove-vips, then state (MASTER -> FAULT and shutdown send a priority-0 advert first).
 * - Leaving INIT or FAULT follows RFC 5798 6.4.1 (Master_Adver_Interval back to ours; the
 *   owner goes MASTER, others BACKUP).
 * - Without a source address (none given, or the interface has none) the router is in FAULT.
 *
 * @module
 */
import type { Clock, Timer } from "../runtime/clock.ts";
import { formatIp, ipCompare } from "../net/ip.ts";
import { DEFAULT_DOWN_TIMER_ADVERTS, masterDownIntervalMs, skewTimeMs } from "./timers.ts";

/** States of a virtual router (RFC 5798 6.4 plus keepalived's FAULT). */
export type VrrpState = "INIT" | "BACKUP" | "MASTER" | "FAULT";

/** Configuration of one virtual router, already validated by the config layer. */
export interface InstanceOptions {
  /** Instance name, for logs and status. */
  name: string;
  /** Virtual router id, 1..255. */
  vrid: number;
  /** VRRP version. */
  version: 2 | 3;
  /** Address family of the instance. */
  family: "ipv4" | "ipv6";
  /** Configured priority, 1..255 (255 = address owner). */
  priority: number;
  /** Configured advertisement interval in centiseconds (v2: a whole number of seconds). */
  advertIntervalCs: number;
  /** Initial state wanted; only an owner (255) actually starts as MASTER. */
  initialState: "BACKUP" | "MASTER";
  /** Whether a higher-priority backup takes over from a lower-priority master. */
  preempt: boolean;
  /** keepalived preempt_delay in ms (0 = none). */
  preemptDelayMs: number;
  /**
   * Our source address, used for the equal-priority tie-break (RFC 5798 6.4.3). Without it the
   * router waits in FAULT until `setLink` reports a ready interface with one.
   */
  primaryAddress?: Uint8Array;
  /** The interface's name, for fault reasons (default "interface"). */
  interface?: string;
  /** Missed adverts before the master is declared down (keepalived down_timer_adverts). */
  downTimerAdverts?: number;
  /**
   * keepalived lower_prio_no_advert: a MASTER does not answer a lower-priority advert with
   * one of its own (default false: it answers, RFC 9568 6.4.3).
   */
  lowerPrioNoAdvert?: boolean;
  /** keepalived higher_prio_send_advert: one more advert before yielding to a higher master. */
  higherPrioSendAdvert?: boolean;
  /**
   * Whether the interface's carrier is a fault input (default true). keepalived
   * dont_track_primary: false, the instance stays out of FAULT while its link is down.
   */
  trackLink?: boolean;
}

/** A received advertisement, already validated by the codec and the receive checks. */
export interface AdvertIn {
  /** Advertised priority, 0..255. */
  priority: number;
  /** Advertised interval in centiseconds (v3: Max Adver Int; v2: seconds * 100). */
  maxAdverIntCs: number;
  /** Source address of the sender. */
  src: Uint8Array;
}

/**
 * What the executor must do, in the order emitted. "lower-priority": a MASTER heard a
 * lower-priority advert (keepalived then refreshes the neighbours' caches,
 * garp_lower_prio_repeat).
 */
export type Action =
  | { type: "send-advert"; priority: number; intervalCs: number }
  | { type: "add-vips" }
  | { type: "remove-vips" }
  | { type: "announce" }
  | { type: "lower-priority"; from: Uint8Array; priority: number }
  | { type: "state"; from: VrrpState; to: VrrpState; reason: string };

/** A change observed by watchers (sync groups, status): a transition or a fault-input change. */
export type InstanceEvent =
  | { type: "state"; from: VrrpState; to: VrrpState; reason: string }
  | { type: "fault"; faulty: boolean; reason: string };

/**
 * Where one of the instance's own faults comes from; each is set and cleared on its own.
 * "interface": missing, without a source address, or its sockets cannot be opened; "link": no
 * carrier or administratively down; "track": a tracked object with weight 0 is failing;
 * "internal": the executor failed to carry out an action or a timer (a bug, logged).
 */
export type FaultSource = "interface" | "link" | "track" | "internal";

/** What the executor knows of the instance's interface (`setLink`). */
export type LinkView =
  /** The interface does not exist (`deleted`: it existed before). */
  | { kind: "missing"; deleted: boolean }
  /** It exists but has no address to send adverts from. */
  | { kind: "no-source" }
  /** It exists but cannot carry VRRP (the sockets could not be opened): `reason` says why. */
  | { kind: "unusable"; reason: string }
  /** Ready: adverts go out from `source`; `up` is administratively up with carrier. */
  | { kind: "ready"; up: boolean; source: Uint8Array };

/** Counters exposed by `VrrpInstance.stats()`. */
export interface InstanceStats {
  /** Transitions into MASTER. */
  becameMaster: number;
  /** Transitions out of MASTER. */
  releasedMaster: number;
  /** Adverts emitted, priority 0 included. */
  advertsSent: number;
  /** Adverts handed to `receive`. */
  advertsReceived: number;
  /** Priority-0 adverts emitted. */
  priorityZeroSent: number;
  /** Priority-0 adverts received. */
  priorityZeroReceived: number;
}

const OWNER_PRIORITY = 255;

/** One virtual router's state machine. */
export class VrrpInstance {
  readonly #opts: InstanceOptions;
  readonly #clock: Clock;
  readonly #emit: (a: Action) => void;
  readonly #preempt: boolean;
  readonly #downTimerAdverts: number;
  readonly #watchers = new Set<(e: InstanceEvent) => void>();
  #state: VrrpState = "INIT";
  #reason = "starting";
  #changedAtMs: number;
  #basePriority: number;
  #effectivePriority: number;
  #primaryAddress: Uint8Array | null;
  #masterAdverIntCs: number;
  #masterAddress: Uint8Array | null = null;
  #lastSeenMaster: Uint8Array | null = null;
  #adverTimer: Timer | null = null;
  /** When the next periodic advert is due (clock ms); adverts keep this phase. */
  #adverDueMs = 0;
  #downTimer: Timer | null = null;
  /** Own faults by source, in the order they were raised. */
  readonly #faults = new Map<FaultSource, string>();
  #groupFault: string | null = null;
  #wantsMaster = false;
  #masterGate: (() => boolean) | null = null;
  #preemptAtMs: number | null = null;
  #stats: InstanceStats = {
    becameMaster: 0,
    releasedMaster: 0,
    advertsSent: 0,
    advertsReceived: 0,
    priorityZeroSent: 0,
    priorityZeroReceived: 0,
  };

  /** Validates `opts`; throws RangeError on values no config could mean. */
  constructor(opts: InstanceOptions, clock: Clock, emit: (a: Action) => void) {
    validate(opts);
    this.#opts = opts;
    this.#clock = clock;
    this.#emit = emit;
    this.#preempt = opts.preempt || opts.initialState === "MASTER";
    this.#downTimerAdverts = opts.downTimerAdverts ?? DEFAULT_DOWN_TIMER_ADVERTS;
    this.#basePriority = opts.priority;
    this.#effectivePriority = opts.priority;
    this.#masterAdverIntCs = opts.advertIntervalCs;
    this.#primaryAddress = opts.primaryAddress ?? null;
    this.#changedAtMs = clock.now();
    if (this.#primaryAddress === null) {
      this.#faults.set("interface", `${this.#ifText()} is not known yet`);
    }
  }

  /** Instance name. */
  get name(): string {
    return this.#opts.name;
  }

  /** Virtual router id. */
  get vrid(): number {
    return this.#opts.vrid;
  }

  /** Current state. */
  get state(): VrrpState {
    return this.#state;
  }

  /** Why the last transition happened ("starting" before the first). */
  get reason(): string {
    return this.#reason;
  }

  /** When the last transition happened, in clock milliseconds. */
  get changedAtMs(): number {
    return this.#changedAtMs;
  }

  /** Configured priority (a reload may change it with `setBasePriority`). */
  get basePriority(): number {
    return this.#basePriority;
  }

  /** Priority in use (configured, adjusted by tracking). */
  get effectivePriority(): number {
    return this.#effectivePriority;
  }

  /** Master_Adver_Interval in use (v3 backups adopt the master's). */
  get masterAdverIntCs(): number {
    return this.#masterAdverIntCs;
  }

  /** The accepted master (ourselves while MASTER), or null. */
  get masterAddress(): Uint8Array | null {
    return this.#masterAddress;
  }

  /** The source of the last advert with a priority above 0 (for status), or null. */
  get lastSeenMaster(): Uint8Array | null {
    return this.#lastSeenMaster;
  }

  /** Our source address, or null while the interface has none. */
  get primaryAddress(): Uint8Array | null {
    return this.#primaryAddress;
  }

  /** Whether this is the address owner (priority 255). */
  get isOwner(): boolean {
    return this.#basePriority === OWNER_PRIORITY;
  }

  /** The instance's own fault reasons joined with "; " (without the group's), or null. */
  get ownFault(): string | null {
    return this.#faults.size === 0 ? null : [...this.#faults.values()].join("; ");
  }

  /** The instance's own fault reasons, one per source. */
  get faults(): string[] {
    return [...this.#faults.values()];
  }

  /** Whether the Master_Down_Timer expired and only a sync-group gate holds us in BACKUP. */
  get wantsMaster(): boolean {
    return this.#wantsMaster;
  }

  /** Copies of the counters. */
  stats(): InstanceStats {
    return { ...this.#stats };
  }

  /** Subscribes to transitions and fault-input changes; dispose to unsubscribe. */
  watch(fn: (e: InstanceEvent) => void): Disposable {
    this.#watchers.add(fn);
    return { [Symbol.dispose]: () => this.#watchers.delete(fn) };
  }

  /** INIT -> MASTER (owner) or BACKUP, or FAULT when a fault is already set (RFC 5798 6.4.1). */
  start(): void {
    if (this.#state !== "INIT") return;
    const fault = this.#faultReason();
    if (fault !== null) {
      this.#enter("FAULT", fault);
    } else if (this.isOwner) {
      // RFC 5798 6.4.1: priority 255 sends an advert, announces, and becomes Master.
      this.#enter("MASTER", "address owner (priority 255) starting");
    } else {
      // RFC 5798 6.4.1: otherwise Master_Down_Timer = Master_Down_Interval, Backup.
      this.#enter("BACKUP", "starting");
    }
  }

  /** Handles one validated advertisement (RFC 5798 6.4.2 / 6.4.3). */
  receive(advert: AdvertIn): void {
    this.#stats.advertsReceived++;
    if (advert.priority === 0) this.#stats.priorityZeroReceived++;
    else this.#lastSeenMaster = advert.src;
    switch (this.#state) {
      case "INIT":
      case "FAULT":
        return;
      case "BACKUP":
        this.#receiveBackup(advert);
        return;
      case "MASTER":
        this.#receiveMaster(advert);
        return;
      default: {
        const never: never = this.#state;
        throw new Error(`unknown state ${never}`);
      }
    }
  }

  /** Sets the tracked priority (1..254); ignored for the address owner. */
  setEffectivePriority(priority: number): void {
    if (this.isOwner) return;
    if (!Number.isInteger(priority) || priority < 1 || priority > 254) {
      throw new RangeError(`${this.name}: effective priority must be 1..254, got ${priority}`);
    }
    this.#effectivePriority = priority;
  }

  /**
   * Changes the configured priority without a restart (a reload that changed only the
   * priority); the effective priority follows until tracking adjusts it again. An address
   * owner's priority (255) cannot change this way: RangeError, the caller restarts it.
   */
  setBasePriority(priority: number): void {
    if (priority === OWNER_PRIORITY || this.isOwner) {
      throw new RangeError("an address owner's priority cannot change without a restart");
    }
    this.setEffectivePriority(priority);
    this.#basePriority = priority;
  }

  /** Sets or clears one source of the instance's own fault. */
  setFault(source: FaultSource, faulty: boolean, reason: string): void {
    this.#changeFaults([[source, faulty ? reason : null]], reason);
  }

  /** Takes the executor's view of the interface: presence, source address, carrier. */
  setLink(view: LinkView): void {
    const ifText = this.#ifText();
    switch (view.kind) {
      case "missing": {
        const why = view.deleted ? `${ifText} was deleted` : `${ifText} does not exist`;
        this.#changeFaults([["interface", why], ["link", null]], why);
        return;
      }
      case "no-source": {
        const what = this.#opts.family === "ipv4" ? "IPv4 address" : "IPv6 link-local address";
        const why = `${ifText} has no ${what}`;
        this.#changeFaults([["interface", why], ["link", null]], why);
        return;
      }
      case "unusable":
        this.#changeFaults([["interface", view.reason], ["link", null]], view.reason);
        return;
      case "ready": {
        checkAddress(this.#opts, view.source);
        this.#primaryAddress = view.source;
        const name = this.#opts.interface ?? "interface";
        const why = view.up ? `interface ${name} up` : `interface ${name} down`;
        // keepalived dont_track_primary: the link's carrier is not a fault input.
        const down = !view.up && this.#opts.trackLink !== false;
        this.#changeFaults([["interface", null], ["link", down ? why : null]], why);
        return;
      }
      default: {
        const never: never = view;
        throw new Error(`unknown link view ${JSON.stringify(never)}`);
      }
    }
  }

  /** Sets or clears a fault imposed by a sync group (another member is faulty). */
  setGroupFault(reason: string | null): void {
    if (reason === this.#groupFault) return;
    this.#groupFault = reason;
    this.#reconcileFault(reason ?? "sync group recovered");
  }

  /** Lets a sync group veto a timer-driven BACKUP -> MASTER transition (keepalived). */
  setMasterGate(gate: (() => boolean) | null): void {
    this.#masterGate = gate;
  }

  /** BACKUP -> MASTER on a sync group's order; no-op in other states. */
  forceMaster(reason: string): void {
    if (this.#state === "BACKUP") this.#enter("MASTER", reason);
  }

  /** MASTER -> BACKUP on a sync group's order; no-op in other states. */
  forceBackup(reason: string): void {
    if (this.#state === "MASTER") this.#enter("BACKUP", reason);
  }

  /** Stops: a MASTER sends a priority-0 advert and removes its VIPs; every timer is cancelled. */
  shutdown(reason = "shutdown"): void {
    if (this.#state === "INIT") return;
    // RFC 5798 6.4.3 (Shutdown event): a Master sends priority 0 (see #enter), stops timers.
    this.#enter("INIT", reason);
  }

  #receiveBackup(advert: AdvertIn): void {
    const ours = this.#effectivePriority;
    if (advert.priority === 0) {
      // RFC 5798 6.4.2: priority 0 -> Master_Down_Timer = Skew_Time.
      this.#startDownTimer(skewTimeMs(this.#opts.version, ours, this.#masterAdverIntCs));
      return;
    }
    if (advert.priority >= ours) {
      // RFC 5798 6.4.2: priority >= ours -> adopt the interval (v3), reset the down timer.
      this.#preemptAtMs = null;
      this.#acceptMaster(advert);
      return;
    }
    if (!this.#preempt) {
      // RFC 5798 6.4.2: Preempt_Mode false -> accept any master.
      this.#acceptMaster(advert);
      return;
    }
    if (this.#opts.preemptDelayMs > 0) {
      // keepalived preempt_delay: tolerate a lower-priority master for a while.
      const now = this.#clock.now();
      this.#preemptAtMs ??= now + this.#opts.preemptDelayMs;
      if (now < this.#preemptAtMs) {
        this.#acceptMaster(advert);
        return;
      }
    }
    // RFC 5798 6.4.2: lower priority with preempt -> discard (our timer will take over).
  }

  #receiveMaster(advert: AdvertIn): void {
    const ours = this.#effectivePriority;
    if (advert.priority === 0) {
      // RFC 5798 6.4.3: priority 0 -> send an advert at once, reset the Adver_Timer.
      this.#sendAdvert(ours);
      this.#startAdverTimer();
      return;
    }
    const cmp = ipCompare(advert.src, this.#primaryAddress!);
    if (advert.priority > ours || (advert.priority === ours && cmp > 0)) {
      // keepalived vrrp_state_master_rx(): higher_prio_send_advert -> one advert first.
      if (this.#opts.higherPrioSendAdvert === true) this.#sendAdvert(ours);
      // RFC 5798 6.4.3: higher priority, or equal with a higher address -> Backup.
      this.#acceptMaster(advert, false);
      this.#enter(
        "BACKUP",
        `higher-priority master ${formatIp(advert.src)} (priority ${advert.priority})`,
      );
      return;
    }
    if (advert.priority === ours && cmp === 0) return;
    // RFC 9568 6.4.3: lower priority -> discard and send an advert at once (unless
    // keepalived's lower_prio_no_advert, which vrrp_strict sets).
    if (this.#opts.lowerPrioNoAdvert !== true) {
      this.#sendAdvert(ours);
      this.#startAdverTimer();
    }
    // keepalived vrrp_state_master_rx(): "we receive a lower prio adv we just refresh remote
    // ARP cache" (garp_lower_prio_repeat / garp_lower_prio_delay).
    this.#emit({ type: "lower-priority", from: advert.src, priority: advert.priority });
  }

  /** Records `advert`'s sender as master; v3 adopts its interval; resets the down timer. */
  #acceptMaster(advert: AdvertIn, resetTimer = true): void {
    if (this.#opts.version === 3 && advert.maxAdverIntCs > 0) {
      this.#masterAdverIntCs = advert.maxAdverIntCs;
    }
    this.#masterAddress = advert.src;
    this.#wantsMaster = false;
    if (resetTimer) this.#startDownTimer(this.#masterDownMs());
  }

  #onDownTimer(): void {
    this.#downTimer = null;
    if (this.#state !== "BACKUP") return;
    this.#wantsMaster = true;
    if (this.#masterGate !== null && !this.#masterGate()) {
      // keepalived sync group: go master only when every member wants to.
      this.#startDownTimer(this.#masterDownMs());
      return;
    }
    // RFC 5798 6.4.2: Master_Down_Timer fires -> advert, announce, Master.
    this.#enter("MASTER", "master down timer expired");
  }

  #onAdverTimer(): void {
    this.#adverTimer = null;
    if (this.#state !== "MASTER") return;
    // RFC 5798 6.4.3: Adver_Timer fires -> send an advert, reset the timer.
    this.#sendAdvert(this.#effectivePriority);
    // Due times advance by whole intervals from the last due time, so a late timer does not
    // push every later advert back (a 10 ms interval would otherwise average ~10.8 ms).
    const intervalMs = this.#opts.advertIntervalCs * 10;
    const now = this.#clock.now();
    this.#adverDueMs += intervalMs;
    if (this.#adverDueMs <= now) this.#adverDueMs = now + intervalMs; // fell a whole interval behind
    this.#armAdverTimer(this.#adverDueMs - now);
  }

  /**
   * The one way into a state: cancels the timers and the per-state bookkeeping, runs the exit
   * actions of the old state and the entry actions of the new one, then reports the change.
   */
  #enter(to: VrrpState, reason: string): void {
    const from = this.#state;
    this.#cancelTimers();
    this.#wantsMaster = false;
    this.#preemptAtMs = null;
    if (from === "MASTER") {
      // RFC 5798 6.4.3 Shutdown, and keepalived's MASTER -> FAULT: a priority-0 advert lets a
      // backup take over after Skew_Time instead of Master_Down_Interval.
      if (to === "FAULT" || to === "INIT") this.#sendAdvert(0);
      this.#stats.releasedMaster++;
      this.#emit({ type: "remove-vips" });
    }
    if (from === "INIT" || from === "FAULT") {
      // RFC 5798 6.4.1: Master_Adver_Interval starts as our own Advertisement_Interval.
      this.#masterAdverIntCs = this.#opts.advertIntervalCs;
    }
    this.#state = to;
    this.#reason = reason;
    this.#changedAtMs = this.#clock.now();
    switch (to) {
      case "MASTER":
        // RFC 5798 6.4.1 / 6.4.2: send an advert, start the Adver_Timer, announce the VIPs.
        this.#masterAdverIntCs = this.#opts.advertIntervalCs;
        this.#masterAddress = this.#primaryAddress;
        this.#stats.becameMaster++;
        this.#sendAdvert(this.#effectivePriority);
        this.#startAdverTimer();
        this.#emit({ type: "add-vips" });
        this.#emit({ type: "announce" });
        break;
      case "BACKUP":
        // RFC 5798 6.4.1 / 6.4.3: Master_Down_Timer = Master_Down_Interval.
        this.#startDownTimer(this.#masterDownMs());
        break;
      case "FAULT":
        // keepalived: no timers, adverts ignored until every fault clears.
        break;
      case "INIT":
        // RFC 5798 6.4.3 Shutdown: back to Initialize, no master known.
        this.#masterAddress = null;
        break;
      default: {
        const never: never = to;
        throw new Error(`unknown state ${never}`);
      }
    }
    this.#emit({ type: "state", from, to, reason });
    this.#notify({ type: "state", from, to, reason });
  }

  /** Applies several fault-source changes at once, then reconciles the state once. */
  #changeFaults(changes: [FaultSource, string | null][], why: string): void {
    const before = this.ownFault;
    for (const [source, reason] of changes) {
      if (reason === null) this.#faults.delete(source);
      else this.#faults.set(source, reason);
    }
    const after = this.ownFault;
    if (after === before) return;
    this.#reconcileFault(why);
    if ((before === null) !== (after === null)) {
      this.#notify({ type: "fault", faulty: after !== null, reason: why });
    }
  }

  #reconcileFault(reason: string): void {
    if (this.#state === "INIT") return;
    const fault = this.#faultReason();
    if (fault !== null && this.#state !== "FAULT") {
      this.#enter("FAULT", fault);
    } else if (fault === null && this.#state === "FAULT") {
      // keepalived: leaving FAULT goes to BACKUP (RFC 5798 6.4.1 rules, owner -> MASTER).
      this.#enter(this.isOwner ? "MASTER" : "BACKUP", `fault cleared: ${reason}`);
    }
  }

  #faultReason(): string | null {
    return this.ownFault ?? this.#groupFault;
  }

  #ifText(): string {
    return this.#opts.interface === undefined
      ? "the interface"
      : `interface "${this.#opts.interface}"`;
  }

  #notify(e: InstanceEvent): void {
    for (const fn of [...this.#watchers]) fn(e);
  }

  #sendAdvert(priority: number): void {
    this.#stats.advertsSent++;
    if (priority === 0) this.#stats.priorityZeroSent++;
    this.#emit({ type: "send-advert", priority, intervalCs: this.#opts.advertIntervalCs });
  }

  #masterDownMs(): number {
    return masterDownIntervalMs(
      this.#opts.version,
      this.#effectivePriority,
      this.#masterAdverIntCs,
      this.#downTimerAdverts,
    );
  }

  // A timer fires only if it is still the current one: an executor may deliver input (which
  // re-arms the timer) between a timer's expiry and its callback.
  #startDownTimer(delayMs: number): void {
    this.#downTimer?.cancel();
    const t = this.#clock.setTimer(delayMs, () => {
      if (this.#downTimer === t) this.#onDownTimer();
    });
    this.#downTimer = t;
  }

  #startAdverTimer(): void {
    const intervalMs = this.#opts.advertIntervalCs * 10;
    this.#adverDueMs = this.#clock.now() + intervalMs;
    this.#armAdverTimer(intervalMs);
  }

  #armAdverTimer(delayMs: number): void {
    this.#adverTimer?.cancel();
    const t = this.#clock.setTimer(delayMs, () => {
      if (this.#adverTimer === t) this.#onAdverTimer();
    });
    this.#adverTimer = t;
  }

  #cancelTimers(): void {
    this.#downTimer?.cancel();
    this.#downTimer = null;
    this.#adverTimer?.cancel();
    this.#adverTimer = null;
  }
}

function validate(o: InstanceOptions): void {
  const bad = (what: string) => new RangeError(`VRRP instance "${o.name}": ${what}`);
  if (!Number.isInteger(o.vrid) || o.vrid < 1 || o.vrid > 255) throw bad(`vrid ${o.vrid}`);
  if (!Number.isInteger(o.priority) || o.priority < 1 || o.priority > 255) {
    throw bad(`priority ${o.priority} is not 1..255`);
  }
  const maxCs = o.version === 2 ? 25500 : 4095;
  if (
    !Number.isInteger(o.advertIntervalCs) || o.advertIntervalCs < 1 || o.advertIntervalCs > maxCs
  ) {
    throw bad(`advert interval ${o.advertIntervalCs} cs is not 1..${maxCs}`);
  }
  if (o.version === 2 && o.advertIntervalCs % 100 !== 0) {
    throw bad(`VRRPv2 advert interval must be whole seconds, got ${o.advertIntervalCs} cs`);
  }
  if (!(o.preemptDelayMs >= 0)) throw bad(`preempt delay ${o.preemptDelayMs} ms`);
  if (o.primaryAddress !== undefined) checkAddress(o, o.primaryAddress);
}

function checkAddress(o: InstanceOptions, address: Uint8Array): void {
  const len = o.family === "ipv4" ? 4 : 16;
  if (address.length !== len) {
    throw new RangeError(
      `VRRP instance "${o.name}": primary address has ${address.length} bytes, ` +
        `${o.family} needs ${len}`,
    );
  }
}
