/**
 * Tracked processes (keepalived vrrp_track_process): how many running processes match a
 * definition, and whether that count is within the quorum, with fork and terminate delays.
 * Matching and the up/down decision are pure; `scanProc` reads /proc.
 *
 * keepalived learns of exec and exit from the kernel's process connector at once; haagent scans
 * /proc every `global.process_scan_interval` (1 s by default), so a process that dies is seen
 * up to one interval later.
 *
 * @module
 */

/** One running process as seen in /proc. */
export interface ProcInfo {
  pid: number;
  /** /proc/PID/comm: the name, at most 15 characters. */
  comm: string;
  /** /proc/PID/cmdline split at NULs: argv[0], argv[1], ... (empty for kernel threads). */
  argv: string[];
}

/** What a tracked process definition matches. */
export interface ProcessMatch {
  process: string;
  parameters?: string;
  paramMatch: "exact" | "initial" | "partial";
  fullCommand: boolean;
}

/** The kernel keeps 15 characters of a process name (TASK_COMM_LEN - 1). */
const COMM_LEN = 15;

/** Whether `p` matches the definition. */
export function matches(m: ProcessMatch, p: ProcInfo): boolean {
  if (m.fullCommand) {
    if (p.argv[0] !== m.process) return false;
  } else if (p.comm !== m.process.slice(0, COMM_LEN)) return false;
  if (m.parameters === undefined) return true;
  const args = p.argv.slice(1).join(" ");
  switch (m.paramMatch) {
    case "exact":
      return args === m.parameters;
    case "initial":
      return args === m.parameters || args.startsWith(`${m.parameters} `);
    case "partial":
      return args.includes(m.parameters);
  }
}

/** Up/down of one definition from successive counts, with keepalived's quorum and delays. */
export class ProcessTracker {
  readonly #quorum: number;
  readonly #quorumMax: number;
  readonly #forkDelayMs: number;
  readonly #terminateDelayMs: number;
  #up: boolean | null = null;
  #count = 0;
  /** Since when the count has said the opposite of `up` (for the delays), or null. */
  #changingSince: number | null = null;

  constructor(
    o: { quorum: number; quorumMax?: number; forkDelayMs: number; terminateDelayMs: number },
  ) {
    this.#quorum = o.quorum;
    this.#quorumMax = o.quorumMax ?? Number.POSITIVE_INFINITY;
    this.#forkDelayMs = o.forkDelayMs;
    this.#terminateDelayMs = o.terminateDelayMs;
  }

  /** Whether the process counts as up (false before the first count). */
  get up(): boolean {
    return this.#up === true;
  }

  /** The last count. */
  get count(): number {
    return this.#count;
  }

  /** Records a count taken at `nowMs`; returns true when `up` changed. */
  record(count: number, nowMs: number): boolean {
    this.#count = count;
    const want = count >= this.#quorum && count <= this.#quorumMax;
    if (this.#up === null) {
      // The first scan decides at once: nothing is starting or ending yet.
      this.#up = want;
      return true;
    }
    if (want === this.#up) {
      this.#changingSince = null;
      return false;
    }
    this.#changingSince ??= nowMs;
    const delay = want ? this.#forkDelayMs : this.#terminateDelayMs;
    if (nowMs - this.#changingSince < delay) return false;
    this.#up = want;
    this.#changingSince = null;
    return true;
  }
}

/** One process from its comm file's text and cmdline's bytes. */
function procInfo(pid: number, comm: string, cmdline: Uint8Array): ProcInfo {
  const raw = new TextDecoder().decode(cmdline);
  return {
    pid,
    comm: comm.replace(/\n$/, ""),
    argv: raw === "" ? [] : raw.replace(/\0$/, "").split("\0"),
  };
}

/** `scanProc`, synchronously: for the first count, so an instance does not start in FAULT. */
export function scanProcSync(root = "/proc"): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const e of Deno.readDirSync(root)) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid)) continue;
    try {
      const dir = `${root}/${pid}`;
      out.push(
        procInfo(pid, Deno.readTextFileSync(`${dir}/comm`), Deno.readFileSync(`${dir}/cmdline`)),
      );
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out;
}

/** Every process in /proc with its name and arguments (processes that vanish are skipped). */
export async function scanProc(root = "/proc"): Promise<ProcInfo[]> {
  const out: ProcInfo[] = [];
  for await (const e of Deno.readDir(root)) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid)) continue;
    try {
      const dir = `${root}/${pid}`;
      out.push(
        procInfo(
          pid,
          await Deno.readTextFile(`${dir}/comm`),
          await Deno.readFile(`${dir}/cmdline`),
        ),
      );
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out;
}
