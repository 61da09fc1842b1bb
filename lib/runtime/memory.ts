/**
 * Giving memory back once a burst of allocation is over (start-up, a reload). Two steps:
 * - a compacting collection of V8's heap (the collection V8 runs before it gives up on
 *   memory: every fragmented page evacuated, bytecode not run lately flushed), when the
 *   runtime exposes `gc` (deno.json's `start` and `compile` tasks pass `--expose-gc`). Without
 *   it V8 keeps the pages it grew to during start-up: at 1,000 instances 37-42 MB of old space
 *   for 16 MB live, and its normal collections free objects but keep the pages. It stops the
 *   thread for 10-30 ms at one instance and ~90 ms at 1,000 (measured here), so the caller
 *   runs it only where no advert interval is that short (`deep`);
 * - glibc's free pages back to the kernel (`malloc_trim(0)`, every arena): what V8's compiler
 *   and GC helper threads and the runtime freed after start-up (at 1,000 instances 10 MB).
 *
 * @module
 */
import { trimMalloc } from "../../ffi/malloc.ts";

/** What one `compactMemory` did. */
export interface Compacted {
  /** Whether V8's heap was collected and compacted (false: no `gc` exposed, or not asked). */
  collected: boolean;
  /** Whether glibc gave pages back. */
  trimmed: boolean;
  /** How long the thread was held, ms. */
  ms: number;
}

/** V8's `gc` extension (`--expose-gc`), with the options of V8 11 and later. */
type Gc = (opts?: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/**
 * Compacts V8's heap when `deep` and the runtime allows it, then trims malloc. Synchronous:
 * holds the calling thread (see the module's note for how long). Never throws.
 */
export function compactMemory(
  deep: boolean,
  now: () => number = () => performance.now(),
): Compacted {
  const t0 = now();
  let collected = false;
  if (deep) {
    const gc = (globalThis as { gc?: Gc }).gc;
    if (typeof gc === "function") {
      try {
        gc({ type: "major", execution: "sync", flavor: "last-resort" });
        collected = true;
      } catch { /* a gc that refuses the options: nothing collected */ }
    }
  }
  let trimmed = false;
  try {
    trimmed = trimMalloc();
  } catch { /* no FFI permission: nothing trimmed */ }
  return { collected, trimmed, ms: now() - t0 };
}
