/**
 * How to start another haagent process the way this one was started: the compiled binary
 * itself, or `deno run -A main.ts`.
 *
 * @module
 */

/**
 * V8 flags haagent runs with: V8's memory reducer wakes an idle process to shrink its heap,
 * which was 8x the CPU of everything else while idle as master (8 vs 1 clock ticks per 30 s).
 * `deno task compile` bakes the same flags into the binary.
 */
export const V8_FLAGS = ["--v8-flags=--no-memory-reducer"];

/** argv prefix that runs haagent (append the subcommand and flags). */
export function selfCommand(): string[] {
  const exe = Deno.execPath();
  const base = exe.slice(exe.lastIndexOf("/") + 1);
  if (base === "deno" || base.startsWith("deno.")) {
    const main = new URL("../../main.ts", import.meta.url);
    return [
      exe,
      "run",
      "-A",
      main.protocol === "file:" ? decodeURIComponent(main.pathname) : main.href,
    ];
  }
  return [exe];
}
