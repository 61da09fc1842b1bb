/**
 * Script security as keepalived 2.2.7 does it (lib/notify.c): the user a script runs as
 * (its own `user`, else global script_user, else keepalived_script when that user exists, else
 * root), and check_script_secure: a script run as root (or set-uid/gid root) must not be
 * writable by anyone but root, and neither may any directory on its path (a directory with the
 * sticky bit may be world-writable, like /tmp); the path as written and the resolved path are
 * both checked. With enable_script_security such a script is refused; without it it runs with a
 * warning. Unlike keepalived, the message names the path and the permission at fault.
 *
 * The checks are pure over an injected `lstat`; `ScriptPolicy` applies them to real files,
 * once per script and user until it is configured again (a reload).
 *
 * @module
 */
import type { Logger } from "./log.ts";

/** What the checks need to know about one path (lstat: links are not followed). */
export interface PathStat {
  uid: number;
  gid: number;
  /** st_mode permission and type bits. */
  mode: number;
  isDirectory: boolean;
  isFile: boolean;
  isSymlink: boolean;
}

/** lstat(2) of a path, or null when it cannot be read. */
export type Lstat = (path: string) => PathStat | null;

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const S_IWGRP = 0o020;
const S_IWOTH = 0o002;
const S_IXUSR = 0o100;
const S_IXGRP = 0o010;

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
}

/** The path and every directory above it, from "/" down (keepalived walks them in that order). */
export function pathPrefixes(path: string): string[] {
  const out = ["/"];
  const parts = path.split("/").filter((p) => p !== "");
  let cur = "";
  for (const p of parts) {
    cur += `/${p}`;
    out.push(cur);
  }
  return out;
}

/**
 * keepalived's check_security: null when `path` (absolute) and each directory above it are
 * owned by root and writable by no one else; otherwise what is wrong, naming the path and the
 * permission.
 */
export function pathProblem(path: string, lstat: Lstat): string | null {
  const all = pathPrefixes(path);
  for (let i = 0; i < all.length; i++) {
    const p = all[i]!;
    const last = i === all.length - 1;
    const st = lstat(p);
    if (st === null) return `${p} cannot be read`;
    if (!last && !st.isDirectory) return `${p} is not a directory`;
    if (last && !st.isFile && !st.isSymlink) return `${p} is not a regular file`;
    const what = st.isDirectory ? "directory" : "file";
    if (st.uid !== 0) return `${what} ${p} is owned by uid ${st.uid}, not root`;
    if (st.isSymlink) continue;
    if (st.isDirectory && (st.mode & S_ISVTX) !== 0) continue;
    if (st.gid !== 0 && (st.mode & S_IWGRP) !== 0) {
      return `${what} ${p} is writable by group ${st.gid} (mode ${octal(st.mode)})`;
    }
    if ((st.mode & S_IWOTH) !== 0) {
      return `${what} ${p} is writable by others (mode ${octal(st.mode)})`;
    }
  }
  return null;
}

/** How a script may run. */
export interface ScriptVerdict {
  /** false: refused (unsafe under enable_script_security). */
  run: boolean;
  /** What is wrong, or null. */
  problem: string | null;
  /** The resolved program path, when found. */
  path: string | null;
}

/** The file-system calls a verdict needs (real ones by default). */
export interface ScriptFs {
  lstat: Lstat;
  /** realpath(3), or null when the path cannot be resolved. */
  realpath(path: string): string | null;
  /** PATH used to find a bare program name. */
  searchPath: string;
}

/**
 * keepalived's check_script_secure for program `argv0` run as `uid`:`gid`: the path as written
 * and the resolved path must be safe when the script runs as root (uid or gid 0) or the file is
 * set-uid / set-gid root. `security` (enable_script_security) refuses an unsafe script.
 */
export function scriptVerdict(
  argv0: string,
  ids: { uid: number; gid: number },
  security: boolean,
  fs: ScriptFs,
): ScriptVerdict {
  let given = argv0;
  if (!given.includes("/")) {
    const found = fs.searchPath.split(":").filter((d) => d !== "").map((d) => `${d}/${argv0}`)
      .find((p) => fs.realpath(p) !== null);
    if (found === undefined) return { run: true, problem: null, path: null };
    given = found;
  }
  // A program that is not there is left to the spawn, which reports it as not found.
  const real = fs.realpath(given);
  if (real === null) return { run: true, problem: null, path: null };
  const st = fs.lstat(real);
  if (st === null) return { run: true, problem: null, path: null };
  const setRoot = (st.uid === 0 && (st.mode & S_IXUSR) !== 0 && (st.mode & S_ISUID) !== 0) ||
    (st.gid === 0 && (st.mode & S_IXGRP) !== 0 && (st.mode & S_ISGID) !== 0);
  if (ids.uid !== 0 && ids.gid !== 0 && !setRoot) return { run: true, problem: null, path: real };
  const absGiven = given.startsWith("/") ? given : real;
  const problem = pathProblem(absGiven, fs.lstat) ??
    (real !== absGiven ? pathProblem(real, fs.lstat) : null);
  return { run: problem === null || !security, problem, path: real };
}

/** The real file system. */
export const REAL_FS: ScriptFs = {
  lstat(path) {
    try {
      const s = Deno.lstatSync(path);
      return {
        uid: s.uid ?? 0,
        gid: s.gid ?? 0,
        mode: s.mode ?? 0,
        isDirectory: s.isDirectory,
        isFile: s.isFile,
        isSymlink: s.isSymlink,
      };
    } catch {
      return null;
    }
  },
  realpath(path) {
    try {
      return Deno.realPathSync(path);
    } catch {
      return null;
    }
  },
  get searchPath() {
    return Deno.env.get("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  },
};

/** The user a script runs as when neither it nor script_user names one. */
export const DEFAULT_SCRIPT_USER = "keepalived_script";

/** Whether a user name exists in /etc/passwd text. */
export function userExists(name: string, passwd: string): boolean {
  return passwd.split("\n").some((l) => l.split(":")[0] === name);
}

/** The default script user, decided once per configuration as keepalived decides it. */
export type DefaultUser =
  | { ok: true; user: string | null; notice: string | null }
  | { ok: false; reason: string };

/**
 * keepalived's get_default_script_user: `configured` (global script_user) when it exists;
 * otherwise keepalived_script when it exists, else root (null) with a notice; under
 * enable_script_security a missing keepalived_script refuses every script without a user.
 */
export function defaultScriptUser(
  configured: string | null,
  security: boolean,
  passwd: string,
): DefaultUser {
  if (configured !== null) {
    const name = configured.split(":")[0]!;
    if (/^\d+$/.test(name) || userExists(name, passwd)) {
      return { ok: true, user: configured, notice: null };
    }
    return {
      ok: false,
      reason: `script_user ${name} does not exist: scripts without their own user are refused`,
    };
  }
  if (userExists(DEFAULT_SCRIPT_USER, passwd)) {
    return { ok: true, user: DEFAULT_SCRIPT_USER, notice: null };
  }
  if (security) {
    return {
      ok: false,
      reason: `script_user is not set and user ${DEFAULT_SCRIPT_USER} does not exist: ` +
        "with enable_script_security, scripts without their own user are refused",
    };
  }
  return {
    ok: true,
    user: null,
    notice: `script_user is not set and user ${DEFAULT_SCRIPT_USER} does not exist: ` +
      "scripts without their own user run as root",
  };
}

/** One thread's script policy: the default user and enable_script_security, with cached verdicts. */
export class ScriptPolicy {
  #security = false;
  #default: DefaultUser = { ok: true, user: null, notice: null };
  #log: Logger | null = null;
  readonly #fs: ScriptFs;
  readonly #verdicts = new Map<string, ScriptVerdict>();
  #unsafeSeen = false;

  constructor(fs: ScriptFs = REAL_FS) {
    this.#fs = fs;
  }

  /** Sets the policy (start and reload); forgets earlier verdicts. Returns the default user. */
  configure(
    o: { security: boolean; scriptUser: string | null; passwd: string },
    log: Logger | null,
  ): DefaultUser {
    this.#security = o.security;
    this.#default = defaultScriptUser(o.scriptUser, o.security, o.passwd);
    this.#log = log;
    this.#verdicts.clear();
    this.#unsafeSeen = false;
    return this.#default;
  }

  /** Whether enable_script_security is on. */
  get security(): boolean {
    return this.#security;
  }

  /** Whether an unsafe script was seen since the last configure. */
  get unsafeSeen(): boolean {
    return this.#unsafeSeen;
  }

  /**
   * The user a script runs as: its own, else the default; null = the agent's own (root).
   * `{ refused }` when no user can be set (keepalived removes such a script).
   */
  userFor(own: string | undefined): { user: string | null } | { refused: string } {
    if (own !== undefined && own !== "") return { user: own };
    if (!this.#default.ok) return { refused: this.#default.reason };
    return { user: this.#default.user };
  }

  /** The verdict for `argv0` run as `ids`, logged the first time (refusal: error; unsafe: warning). */
  verdict(argv0: string, ids: { uid: number; gid: number }): ScriptVerdict {
    const key = `${ids.uid}:${ids.gid}:${argv0}`;
    const known = this.#verdicts.get(key);
    if (known !== undefined) return known;
    const v = scriptVerdict(argv0, ids, this.#security, this.#fs);
    this.#verdicts.set(key, v);
    if (v.problem !== null) {
      this.#unsafeSeen = true;
      if (!v.run) {
        this.#log?.error(
          `script ${argv0} refused${
            this.#security ? " (enable_script_security)" : ""
          }: ${v.problem}`,
        );
      } else {
        this.#log?.warn(
          `script ${argv0} is unsafe and runs as uid ${ids.uid} because enable_script_security ` +
            `is off: ${v.problem}`,
        );
      }
    }
    return v;
  }
}

/** This thread's policy, used by runScript (configured by the agent and the LVS worker). */
export const scriptPolicy: ScriptPolicy = new ScriptPolicy();
