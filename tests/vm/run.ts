/**
 * Boots Debian's kernel (which has IPVS) under qemu (TCG), with the host's root shared
 * read-only over 9p, and runs a command inside it in a chroot of the host: by default the
 * in-guest tests (`deno test -A tests/vm/guest/`). Streams the guest console, and exits with the
 * command's status. A host-side timeout kills qemu.
 *
 * Usage: `deno run -A tests/vm/run.ts [--bench] [--timeout-s N] [--filter TEXT] [-- CMD...]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { defaultCacheDir, prepare } from "./prepare.ts";

/** What to run in the guest and how long to let it run. */
export interface GuestRun {
  /** Shell command line run in the repository directory inside the guest. */
  command: string;
  /** Kills qemu after this long. */
  timeoutMs: number;
  /** Guest memory. */
  memoryMb?: number;
  /** Receives each console line (default: printed). */
  onLine?: (line: string) => void;
}

const EXIT_MARK = "HAAGENT-VM-EXIT=";
// deno-lint-ignore no-control-regex
const ESCAPES = /\x1b(\[[0-9;?]*[A-Za-z]|c)/g;

/** Where the guest mounts the repository (its own 9p share; see prepare.ts). */
const GUEST_REPO = "/run/haagent-repo";

function repoDir(): string {
  return new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

async function denoDir(): Promise<string> {
  if (Deno.env.get("DENO_DIR")) return Deno.env.get("DENO_DIR")!;
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
    .output();
  try {
    return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
  } catch {
    return `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;
  }
}

/** Boots the guest, runs `command` in it and returns its exit status (124 on timeout). */
export async function runInGuest(run: GuestRun): Promise<number> {
  const img = await prepare(defaultCacheDir(), (l) => console.error(l));
  const repo = repoDir();
  const runDir = `${img.cacheDir}/run`;
  await Deno.mkdir(runDir, { recursive: true });
  const script = `${runDir}/guest-${Date.now()}-${Math.floor(Math.random() * 1e6)}.sh`;
  const deno = Deno.execPath();
  // The host deno cache is read-only in the guest; a writable copy-on-demand dir sits on tmpfs
  // with the read-only npm and remote caches linked in, so dependencies resolve offline.
  const hostDenoDir = await denoDir();
  await Deno.writeTextFile(
    script,
    [
      "set -e",
      `cd ${GUEST_REPO}`,
      "export HOME=/tmp/haagent-vm PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "export DENO_DIR=/tmp/haagent-vm/deno DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 HAAGENT_IN_VM=1",
      "mkdir -p $DENO_DIR",
      `for d in npm remote; do [ -e ${shellQuote(hostDenoDir)}/$d ] && ln -s ${
        shellQuote(hostDenoDir)
      }/$d $DENO_DIR/$d; done`,
      `export PATH=${shellQuote(deno.slice(0, deno.lastIndexOf("/")))}:$PATH`,
      "set +e",
      run.command,
      "",
    ].join("\n"),
  );
  const args = [
    "-accel",
    "tcg",
    "-cpu",
    "max",
    "-smp",
    "2",
    "-m",
    String(run.memoryMb ?? 1024),
    "-nographic",
    "-no-reboot",
    "-nic",
    "none",
    "-kernel",
    img.kernel,
    "-initrd",
    img.initramfs,
    "-append",
    `console=ttyS0 quiet loglevel=1 panic=-1 haagent.script=${GUEST_REPO}${
      script.slice(repo.length)
    }`,
    "-virtfs",
    "local,path=/,mount_tag=host0,security_model=none,readonly=on,multidevs=remap",
    "-virtfs",
    `local,path=${repo},mount_tag=repo,security_model=none,readonly=on,multidevs=remap`,
  ];
  const child = new Deno.Command("qemu-system-x86_64", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    console.error(`vm: timeout after ${run.timeoutMs} ms, killing qemu`);
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, run.timeoutMs);
  const onLine = run.onLine ?? ((l: string) => console.log(l));
  let code: number | null = null;
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, "").replace(ESCAPES, "");
      pending = pending.slice(nl + 1);
      const at = line.indexOf(EXIT_MARK);
      if (at >= 0) code = Number.parseInt(line.slice(at + EXIT_MARK.length), 10);
      else onLine(line);
    }
  }
  await child.status;
  clearTimeout(timer);
  await Deno.remove(script).catch(() => {});
  if (timedOut) return 124;
  if (code === null || Number.isNaN(code)) {
    console.error("vm: the guest stopped without reporting an exit status");
    return 125;
  }
  return code;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      bench: { type: "boolean", default: false },
      "timeout-s": { type: "string", default: "600" },
      filter: { type: "string" },
    },
  });
  let command: string;
  if (positionals.length > 0) command = positionals.map(shellQuote).join(" ");
  else if (values.bench) command = "deno run -A --no-check bench/ipvs.ts";
  else {
    const filter = values.filter === undefined ? "" : ` --filter ${shellQuote(values.filter)}`;
    command = `deno test -A --no-check${filter} tests/vm/guest/`;
  }
  const t0 = performance.now();
  const code = await runInGuest({ command, timeoutMs: Number(values["timeout-s"]) * 1000 });
  console.error(`vm: guest exited ${code} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  Deno.exit(code);
}
