/**
 * Signals that arrive while the agent starts. Until a process listens for SIGHUP, SIGTERM or
 * SIGINT, the kernel's default action ends it (exit 129 for a SIGHUP), leaving its pid file and
 * control socket behind. main.ts calls `holdStartSignals()` as its first statement, before the
 * rest of the program is even loaded; `run` takes them over with `releaseStartSignals()` once
 * its own listeners are installed. A SIGHUP before the agent is ready is queued (one reload
 * once started, however many arrived); SIGTERM / SIGINT stop the agent as soon as it can.
 *
 * This module imports nothing, so that it loads and runs within the runtime's first
 * milliseconds.
 *
 * @module
 */

/** What arrived while the early listeners were installed. */
export interface HeldSignals {
  hup: number;
  term: number;
  int: number;
}

const held: HeldSignals = { hup: 0, term: 0, int: 0 };
const listeners: [Deno.Signal, () => void][] = [
  ["SIGHUP", () => held.hup++],
  ["SIGTERM", () => held.term++],
  ["SIGINT", () => held.int++],
];
let installed = false;

/** Whether `argv` runs the agent (rather than check, status and the other subcommands). */
export function runsAgent(argv: string[]): boolean {
  const first = argv[0];
  return first === "run" || (first !== undefined && first.startsWith("-") && first !== "-h" &&
    first !== "--help" && first !== "-V" && first !== "--version");
}

/** Listens for SIGHUP, SIGTERM and SIGINT, counting them; idempotent. */
export function holdStartSignals(): void {
  if (installed) return;
  installed = true;
  for (const [sig, fn] of listeners) Deno.addSignalListener(sig, fn);
}

/**
 * Removes the early listeners (call after installing the real ones, so that no signal falls
 * between) and returns what arrived meanwhile.
 */
export function releaseStartSignals(): HeldSignals {
  if (installed) {
    installed = false;
    for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
  }
  const out = { ...held };
  held.hup = held.term = held.int = 0;
  return out;
}
