/**
 * How to start another haagent process the way this one was started: the compiled binary
 * itself, or `deno run -A main.ts`.
 *
 * @module
 */

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
