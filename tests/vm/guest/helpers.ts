/**
 * Helpers for the tests that run inside the IPVS guest (`deno task test:ipvs`): running
 * commands, ipvsadm output normalised for comparison, and a manager on a running reactor.
 *
 * @module
 */

import { Reactor } from "../../../ffi/reactor.ts";
import { IpvsManager } from "../../../lib/ipvs/manager.ts";
import { Logger } from "../../../lib/runtime/log.ts";

/** Why IPVS tests cannot run here (not in the guest), or null. */
export function ipvsUnavailable(): string | null {
  try {
    Deno.statSync("/proc/net/ip_vs");
    return null;
  } catch {
    return "no IPVS in this kernel: run these through `deno run -A tests/vm/run.ts`";
  }
}

/** Runs a command; throws with its stderr when it fails; returns stdout. */
export async function sh(args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(args[0]!, {
    args: args.slice(1),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return text;
}

/**
 * `ipvsadm -Ln` (plus `extra` options) as sorted service blocks: each block is the service line
 * followed by its destination lines in kernel order, runs of spaces collapsed.
 */
export async function ipvsadmBlocks(extra: string[] = []): Promise<string[]> {
  const text = await sh(["ipvsadm", "-Ln", ...extra]);
  const lines = text.split("\n").slice(3).map((l) => l.trim().replace(/\s+/g, " ")).filter(
    Boolean,
  );
  const blocks: string[][] = [];
  for (const l of lines) {
    if (l.startsWith("->")) blocks[blocks.length - 1]?.push(l);
    else blocks.push([l]);
  }
  return blocks.map((b) => b.join("\n")).sort();
}

/** A manager on a running reactor; dispose to stop both. */
export interface Session extends AsyncDisposable {
  m: IpvsManager;
  lines: string[];
}

/** Opens an IpvsManager on a fresh reactor, capturing its log lines. */
export async function openManager(): Promise<Session> {
  const lines: string[] = [];
  const log = new Logger("ipvs", { level: "info", sink: (l) => lines.push(l), json: false });
  const reactor = new Reactor();
  const running = reactor.run();
  const m = await IpvsManager.open(reactor, log);
  if (!(m instanceof IpvsManager)) {
    reactor.close();
    await running;
    throw new Error(m.unavailable);
  }
  return {
    m,
    lines,
    async [Symbol.asyncDispose]() {
      m[Symbol.dispose]();
      reactor.close();
      await running;
    },
  };
}

/** Schedulers whose module is loaded in this kernel. */
export function loadedSchedulers(): string[] {
  const all = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf"]
    .concat(["mh", "twos"]);
  return all.filter((s) => {
    try {
      Deno.statSync(`/sys/module/ip_vs_${s}`);
      return true;
    } catch {
      return false;
    }
  });
}
