/**
 * Tracked objects (keepalived track_script / track_interface / track_file / track_process)
 * reduced to a fault flag and an effective priority. Pure: no timers, no processes.
 *
 * keepalived semantics: weight 0 means FAULT while the object is down; a positive weight is
 * added while the object is up; a negative weight is added while it is down. The result is
 * clamped to 1..254; the address owner (255) is never adjusted, though a weight-0 failure
 * still puts it in FAULT.
 *
 * @module
 */

/** Kinds of tracked objects. */
export type TrackedKind = "script" | "interface" | "file" | "process";

/** One tracked object's current condition. */
export interface TrackedItem {
  /** What is tracked. */
  kind: TrackedKind;
  /** Script name, interface name, file path or process name. */
  name: string;
  /** keepalived weight, -254..254; 0 = FAULT while down. */
  weight: number;
  /** Current condition (for scripts, after rise/fall hysteresis). */
  up: boolean;
}

/** What the tracked objects mean for an instance. */
export interface TrackingResult {
  /** Whether the instance must be in FAULT. */
  fault: boolean;
  /** Why (one entry per failing weight-0 object), empty when not faulty. */
  reasons: string[];
  /** Priority to hand to `VrrpInstance.setEffectivePriority` (owner: 255). */
  effectivePriority: number;
}

const OWNER_PRIORITY = 255;

/** Computes fault and effective priority from the configured priority and tracked items. */
export function computeTracking(
  basePriority: number,
  items: readonly TrackedItem[],
): TrackingResult {
  if (!Number.isInteger(basePriority) || basePriority < 1 || basePriority > 255) {
    throw new RangeError(`base priority must be 1..255, got ${basePriority}`);
  }
  const reasons: string[] = [];
  let delta = 0;
  for (const item of items) {
    if (item.weight === 0) {
      if (!item.up) reasons.push(`${item.kind} ${item.name} is down`);
    } else if (item.weight > 0 && item.up) {
      delta += item.weight;
    } else if (item.weight < 0 && !item.up) {
      delta += item.weight;
    }
  }
  const effectivePriority = basePriority === OWNER_PRIORITY
    ? OWNER_PRIORITY
    : Math.min(254, Math.max(1, basePriority + delta));
  return { fault: reasons.length > 0, reasons, effectivePriority };
}

/** Options of a script tracker (keepalived vrrp_script). */
export interface ScriptTrackerOptions {
  /** Consecutive successes needed to go up, >= 1. */
  rise: number;
  /** Consecutive failures needed to go down, >= 1. */
  fall: number;
  /** keepalived init_fail: start down (needs `rise` successes) instead of unknown. */
  initFail?: boolean;
}

/**
 * Rise/fall hysteresis over a script's exit results.
 *
 * keepalived semantics: by default the state starts unknown-but-up and the first result decides
 * ("one success is enough", "one failure is enough"); with `initFail` it starts down and needs
 * `rise` consecutive successes. Afterwards `rise` consecutive successes bring it up and `fall`
 * consecutive failures bring it down.
 */
export class ScriptTracker {
  readonly #rise: number;
  readonly #fall: number;
  #up: boolean;
  #decided: boolean;
  #successes = 0;
  #failures = 0;

  /** Throws RangeError unless rise and fall are integers >= 1. */
  constructor(opts: ScriptTrackerOptions) {
    for (const [k, v] of [["rise", opts.rise], ["fall", opts.fall]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be >= 1, got ${v}`);
    }
    this.#rise = opts.rise;
    this.#fall = opts.fall;
    this.#up = !opts.initFail;
    this.#decided = opts.initFail === true;
  }

  /** Current condition. */
  get up(): boolean {
    return this.#up;
  }

  /** Whether at least one result decided the state (false while still in the initial guess). */
  get decided(): boolean {
    return this.#decided;
  }

  /** Feeds one result; returns true when `up` changed. */
  record(success: boolean): boolean {
    const before = this.#up;
    if (!this.#decided) {
      this.#decided = true;
      this.#up = success;
      this.#successes = success ? this.#rise : 0;
      this.#failures = success ? 0 : this.#fall;
      return before !== this.#up;
    }
    if (success) {
      this.#failures = 0;
      this.#successes++;
      if (!this.#up && this.#successes >= this.#rise) this.#up = true;
    } else {
      this.#successes = 0;
      this.#failures++;
      if (this.#up && this.#failures >= this.#fall) this.#up = false;
    }
    return before !== this.#up;
  }
}
