/**
 * Runs external programs for notify scripts, MISC_CHECK and vrrp_script: keepalived-style word
 * splitting (no shell), a hard timeout that kills the whole process group (SIGTERM, then SIGKILL
 * after a grace period), bounded output capture, optional user switch, and an in-order queue per
 * key for notify scripts.
 *
 * Process-group handling: every child is spawned `detached` (Deno calls `setsid()`), so the child
 * leads a new process group and `kill(-pid)` reaches everything it forked.
 *
 * User switching: `user: "name"` or `"name:group"` is resolved from /etc/passwd and /etc/group
 * and applied with Deno's `uid`/`gid` spawn options (setgid + setuid in the child; supplementary
 * groups are dropped). An unknown user is reported like a missing program (`code: null`).
 * Without `user` the thread's script policy (script_security.ts) decides: script_user, else
 * keepalived_script, else root; and it refuses unsafe scripts under enable_script_security.
 *
 * @module
 */
import type { Logger } from "./log.ts";
import { scriptPolicy } from "./script_security.ts";

/** How a script run ended. `code` is null when the program could not start or was signalled. */
export interface ScriptResult {
  /** Exit status, or null when killed by a signal or never started. */
  code: number | null;
  /** Terminating signal name, e.g. "SIGKILL". */
  signal: string | null;
  /** True when the run hit `timeoutMs` and was killed. */
  timedOut: boolean;
  /** The first `maxOutputBytes` of standard output, decoded as UTF-8. */
  stdout: string;
  /** Total bytes the program wrote to standard output (kept or discarded). */
  stdoutBytes: number;
  /** Wall time from spawn to exit. */
  durationMs: number;
  /** Why the program did not run ("not found: /x", "unknown user nobody2", ...). */
  error?: string;
  /**
   * With `error`: the errno name when the system refused the start ("ENOENT", "EACCES",
   * "EMFILE", ...), so that callers tell a missing script from a process out of descriptors.
   */
  errorCode?: string;
}

/** Options for one script run. */
export interface ScriptOptions {
  /** Hard bound on the run; the process group gets SIGTERM then SIGKILL. */
  timeoutMs: number;
  /** Extra arguments appended after the command's own words. */
  args?: string[];
  /** Run as this user ("name" or "name:group"); default: the agent's user. */
  user?: string;
  /** Environment added to the agent's own. */
  env?: Record<string, string>;
  /** Bytes of standard output kept (default 64 KiB); the rest is read and discarded. */
  maxOutputBytes?: number;
  /** Aborting kills the process group like a timeout (but `timedOut` stays false). */
  signal?: AbortSignal;
  /** Grace between SIGTERM and SIGKILL (default 2000 ms, as keepalived). */
  killGraceMs?: number;
}

/** Result of splitting a command line. */
export type SplitResult = { ok: true; value: string[] } | { ok: false; reason: string };

/**
 * Splits a command line into words as keepalived does: whitespace separates words, '...'
 * is literal, "..." allows \" and \\, and a backslash outside quotes escapes the next character.
 * No variable expansion, globbing or pipes: use `sh -c '...'` for those.
 */
export function splitCommand(line: string): SplitResult {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
      i++;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { ok: false, reason: `unterminated ' at column ${i + 1}` };
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= line.length) return { ok: false, reason: `unterminated " at column ${i + 1}` };
        const c = line[j]!;
        if (c === '"') break;
        if (c === "\\" && (line[j + 1] === '"' || line[j + 1] === "\\")) {
          cur += line[j + 1];
          j += 2;
        } else {
          cur += c;
          j++;
        }
      }
      inWord = true;
      i = j + 1;
    } else if (ch === "\\" && i + 1 < line.length) {
      cur += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      cur += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  if (words.length === 0) return { ok: false, reason: "empty command" };
  return { ok: true, value: words };
}

/** Resolves "name[:group]" (names or numbers) to ids from /etc/passwd and /etc/group. */
export function resolveUser(
  spec: string,
  passwd = readOr("/etc/passwd"),
  group = readOr("/etc/group"),
): { ok: true; value: { uid: number; gid: number } } | { ok: false; reason: string } {
  const [userName = "", groupName] = spec.split(":");
  let uid: number | undefined;
  let gid: number | undefined;
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f[0] === userName || (/^\d+$/.test(userName) && f[2] === userName)) {
      uid = Number(f[2]);
      gid = Number(f[3]);
      break;
    }
  }
  if (uid === undefined && /^\d+$/.test(userName)) uid = Number(userName);
  if (uid === undefined) return { ok: false, reason: `unknown user ${userName}` };
  if (groupName !== undefined && groupName !== "") {
    gid = undefined;
    for (const line of group.split("\n")) {
      const f = line.split(":");
      if (f[0] === groupName) {
        gid = Number(f[2]);
        break;
      }
    }
    if (gid === undefined && /^\d+$/.test(groupName)) gid = Number(groupName);
    if (gid === undefined) return { ok: false, reason: `unknown group ${groupName}` };
  }
  return { ok: true, value: { uid, gid: gid ?? uid } };
}

function readOr(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** What `scriptAccess` needs from the file system (real in the agent, fakes in tests). */
export interface ExecFs {
  /** `stat` (following links): mode, owner, regular file; null when it cannot be read. */
  stat(path: string): { mode: number; uid: number; gid: number; isFile: boolean } | null;
  /** The search path for a command without a slash. */
  path: string;
}

/** The real file system. */
export const REAL_EXEC_FS: ExecFs = {
  stat(path) {
    try {
      const s = Deno.statSync(path);
      return { mode: s.mode ?? 0, uid: s.uid ?? 0, gid: s.gid ?? 0, isFile: s.isFile };
    } catch {
      return null;
    }
  },
  get path() {
    return Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
  },
};

/**
 * keepalived's check before it tracks a script (lib/notify.c check_script_secure): the program
 * exists (through PATH when it has no slash) and is executable by `ids`. Null when it is, else
 * why not ("/x/chk.sh: not found", "/x/chk.sh: not executable for uid 0") — keepalived then
 * logs "Disabling track script NAME since not found/accessible" and tracks without it.
 */
export function scriptAccess(
  command: string,
  ids: { uid: number; gid: number },
  fs: ExecFs = REAL_EXEC_FS,
): string | null {
  const split = splitCommand(command);
  if (!split.ok) return `cannot parse the command: ${split.reason}`;
  const argv0 = split.value[0]!;
  let file = argv0;
  if (!argv0.includes("/")) {
    const found = fs.path.split(":").filter((d) => d !== "").map((d) => `${d}/${argv0}`)
      .find((p) => fs.stat(p)?.isFile === true);
    if (found === undefined) return `${argv0}: not found in PATH`;
    file = found;
  }
  const st = fs.stat(file);
  if (st === null) return `${file}: not found`;
  if (!st.isFile) return `${file}: not a file`;
  const x = ids.uid === 0
    ? (st.mode & 0o111) !== 0
    : st.uid === ids.uid
    ? (st.mode & 0o100) !== 0
    : st.gid === ids.gid
    ? (st.mode & 0o010) !== 0
    : (st.mode & 0o001) !== 0;
  return x ? null : `${file}: not executable for uid ${ids.uid} gid ${ids.gid}`;
}

/**
 * Checks a configured script the way a run would (its user, then the policy's verdict, which
 * is logged the first time): the reason it would be refused, or null. Run at start and reload
 * so that a refusal shows at once, not at the first run.
 */
export function auditScript(command: string, user?: string): string | null {
  const split = splitCommand(command);
  if (!split.ok) return null;
  const who = scriptPolicy.userFor(user);
  if ("refused" in who) return who.refused;
  let ids = { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 };
  if (who.user !== null) {
    const r = resolveUser(who.user);
    if (!r.ok) return r.reason;
    ids = r.value;
  }
  const v = scriptPolicy.verdict(split.value[0]!, ids);
  return v.run ? null : `refused by enable_script_security: ${v.problem}`;
}

const DEFAULT_MAX_OUTPUT = 64 * 1024;

/**
 * Runs `command` (a keepalived-style command line, or an argv array) and resolves when it has
 * exited. Never throws: a missing program or bad user gives `code: null` and `error`.
 */
export async function runScript(
  command: string | string[],
  opts: ScriptOptions,
): Promise<ScriptResult> {
  const started = performance.now();
  const fail = (error: string): ScriptResult => ({
    code: null,
    signal: null,
    timedOut: false,
    stdout: "",
    stdoutBytes: 0,
    durationMs: performance.now() - started,
    error,
  });
  let argv: string[];
  if (typeof command === "string") {
    const split = splitCommand(command);
    if (!split.ok) return fail(`cannot parse command: ${split.reason}`);
    argv = split.value;
  } else {
    if (command.length === 0) return fail("empty command");
    argv = command;
  }
  argv = [...argv, ...(opts.args ?? [])];
  let ids: { uid: number; gid: number } | undefined;
  const who = scriptPolicy.userFor(opts.user);
  if ("refused" in who) return fail(`refused: ${who.refused}`);
  if (who.user !== null) {
    const r = resolveUser(who.user);
    if (!r.ok) return fail(r.reason);
    ids = r.value;
  }
  const verdict = scriptPolicy.verdict(
    argv[0]!,
    ids ?? { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 },
  );
  if (!verdict.run) return fail(`refused by enable_script_security: ${verdict.problem}`);
  if (opts.signal?.aborted) return fail("aborted before start");

  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      detached: true,
      ...(opts.env ? { env: opts.env } : {}),
      ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
    }).spawn();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: unknown }).code;
    const r = fail(e instanceof Deno.errors.NotFound ? `not found: ${argv[0]}` : msg);
    return typeof code === "string" ? { ...r, errorCode: code } : r;
  }

  const pid = child.pid;
  const graceMs = opts.killGraceMs ?? 2000;
  let timedOut = false;
  let exited = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const killGroup = (sig: Deno.Signal) => {
    try {
      Deno.kill(-pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch { /* gone */ }
    }
  };
  const terminate = () => {
    if (exited) return;
    killGroup("SIGTERM");
    killTimer = setTimeout(() => {
      if (!exited) killGroup("SIGKILL");
    }, graceMs);
  };
  const timeout = setTimeout(() => {
    timedOut = true;
    terminate();
  }, Math.max(0, opts.timeoutMs));
  const onAbort = () => terminate();
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const kept = new Uint8Array(Math.max(0, max));
  let keptLen = 0;
  let total = 0;
  const reader = child.stdout.getReader();
  const reading = (async () => {
    try {
      for (;;) {
        const { done, value: chunk } = await reader.read();
        if (done) break;
        total += chunk.length;
        if (keptLen < max) {
          const n = Math.min(max - keptLen, chunk.length);
          kept.set(chunk.subarray(0, n), keptLen);
          keptLen += n;
        }
      }
    } catch { /* the stream errors when the process is killed; what we have is kept */ }
  })();

  const status = await child.status;
  exited = true;
  clearTimeout(timeout);
  opts.signal?.removeEventListener("abort", onAbort);
  // The leader is gone, but a forked child may still hold stdout open: kill the group when we
  // killed the leader, otherwise give the pipe a moment and then cut it.
  if (timedOut || opts.signal?.aborted) killGroup("SIGKILL");
  if (killTimer !== undefined) clearTimeout(killTimer);
  let pipeTimer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    reading,
    new Promise<void>((r) => {
      pipeTimer = setTimeout(() => {
        killGroup("SIGKILL");
        r();
      }, Math.min(graceMs, 500));
    }),
  ]);
  clearTimeout(pipeTimer);
  // A child that left the group (setsid, a daemon) may hold the pipe for ever: our end is
  // closed now whatever it does, so the descriptor does not leak.
  await reader.cancel().catch(() => {});
  return {
    code: status.signal === null ? status.code : null,
    signal: status.signal,
    timedOut,
    stdout: new TextDecoder().decode(kept.subarray(0, keptLen)),
    stdoutBytes: total,
    durationMs: performance.now() - started,
  };
}

/** A queued script run. */
interface QueueItem {
  command: string | string[];
  args: string[];
  opts: ScriptOptions;
}

/**
 * Runs notify scripts one at a time per key, in the order they were queued (keepalived runs
 * notify scripts in order; a later state's script never overtakes an earlier one). Different
 * keys run concurrently. `enqueue` returns at once; results are logged.
 */
export class ScriptQueue {
  readonly #log: Logger;
  readonly #queues = new Map<string, QueueItem[]>();
  readonly #idle = new Set<() => void>();

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Queues `command args` under `key`; starts it now if nothing else runs for that key. */
  enqueue(
    key: string,
    command: string | string[],
    args: string[] = [],
    opts: ScriptOptions = { timeoutMs: 30_000 },
  ): void {
    const q = this.#queues.get(key);
    const item = { command, args, opts };
    if (q !== undefined) {
      q.push(item);
      return;
    }
    this.#queues.set(key, [item]);
    void this.#drain(key);
  }

  /** Number of scripts queued or running. */
  get pending(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  /** Resolves when every queue is empty. */
  idle(): Promise<void> {
    if (this.#queues.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.add(r));
  }

  async #drain(key: string): Promise<void> {
    const q = this.#queues.get(key)!;
    while (q.length > 0) {
      const it = q[0]!;
      const r = await runScript(it.command, {
        ...it.opts,
        args: [...(it.opts.args ?? []), ...it.args],
      });
      const name = Array.isArray(it.command) ? it.command.join(" ") : it.command;
      if (r.error !== undefined) {
        this.#log.warn("notify script did not run", { key, script: name, error: r.error });
      } else if (r.timedOut) {
        this.#log.warn("notify script timed out", {
          key,
          script: name,
          ms: Math.round(r.durationMs),
        });
      } else if (r.code !== 0) {
        this.#log.info("notify script failed", {
          key,
          script: name,
          code: r.code,
          signal: r.signal,
        });
      } else {
        this.#log.debug("notify script done", { key, script: name });
      }
      q.shift();
    }
    this.#queues.delete(key);
    if (this.#queues.size === 0) {
      for (const r of this.#idle) r();
      this.#idle.clear();
    }
  }
}
