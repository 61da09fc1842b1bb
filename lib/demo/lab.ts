/**
 * Throw-away network labs for integration tests: namespaces, veth pairs and bridges with a
 * unique name prefix, processes started inside them, and a cleanup that removes all of it
 * even when the test fails (`await using lab = await Lab.create("vr")`).
 *
 * @module
 */

/** Why namespace tests cannot run here, or `null` when they can. */
export function netnsUnavailable(): string | null {
  try {
    if (Deno.uid() !== 0) {
      return "needs root to create network namespaces (run as root, as CI does)";
    }
  } catch {
    return "cannot tell the user id";
  }
  try {
    const r = new Deno.Command("ip", { args: ["netns", "list"], stdout: "null", stderr: "null" })
      .outputSync();
    if (!r.success) return "`ip netns` does not work here";
  } catch {
    return "iproute2 (`ip`) is not installed";
  }
  return null;
}

/** Whether a program is on PATH. */
export function haveCommand(name: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** The result of a finished command. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** A process started in a lab; killed at cleanup if still running. */
export interface LabProcess {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  /** Sends a signal (ignored if the process is gone). */
  kill(signal?: Deno.Signal): void;
  /** Waits for exit and returns what it printed (when piped). */
  output(): Promise<Output>;
}

/** A set of namespaces and processes owned by one test. */
export class Lab implements AsyncDisposable {
  /** Unique prefix for every namespace and interface name of this lab (<= 6 chars). */
  readonly prefix: string;
  readonly #namespaces: string[] = [];
  readonly #procs: LabProcess[] = [];

  private constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Creates an empty lab; `tag` (<= 3 chars) shows up in names to tell tests apart. */
  static create(tag: string): Promise<Lab> {
    const rand = Math.floor(Math.random() * 36 ** 3).toString(36).padStart(3, "0");
    return Promise.resolve(new Lab(`${tag.slice(0, 3)}${rand}`));
  }

  /** Full namespace name for a short name. */
  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  /** Creates namespace `name` with `lo` up; returns its full name. */
  async addNs(name: string): Promise<string> {
    const full = this.ns(name);
    await run(["ip", "netns", "add", full]);
    this.#namespaces.push(full);
    await this.exec(name, ["ip", "link", "set", "lo", "up"]);
    return full;
  }

  /** Runs a command in namespace `name` (or on the host when `name` is null); throws on failure. */
  async exec(name: string | null, args: string[]): Promise<string> {
    const out = await this.tryExec(name, args);
    if (out.code !== 0) {
      throw new Error(
        `${args.join(" ")} (in ${name ?? "host"}) failed ${out.code}: ${out.stderr.trim()}`,
      );
    }
    return out.stdout;
  }

  /** Runs a command in namespace `name`; returns its exit code and output. */
  tryExec(name: string | null, args: string[]): Promise<Output> {
    return runOut(name === null ? args : ["ip", "netns", "exec", this.ns(name), ...args]);
  }

  /** Starts a long-running process in namespace `name`. */
  spawn(
    name: string,
    args: string[],
    opts: {
      stdout?: "piped" | "null" | "inherit";
      stderr?: "piped" | "null" | "inherit";
      env?: Record<string, string>;
    } = {},
  ): LabProcess {
    const full = ["ip", "netns", "exec", this.ns(name), ...args];
    const child = new Deno.Command(full[0]!, {
      args: full.slice(1),
      stdin: "null",
      stdout: opts.stdout ?? "null",
      stderr: opts.stderr ?? "null",
      ...(opts.env ? { env: opts.env } : {}),
    }).spawn();
    let done: Promise<Output> | undefined;
    const proc: LabProcess = {
      child,
      pid: child.pid,
      kill(signal: Deno.Signal = "SIGTERM") {
        try {
          child.kill(signal);
        } catch { /* already gone */ }
      },
      output() {
        done ??= child.output().then((o) => ({
          code: o.code,
          stdout: new TextDecoder().decode(o.stdout),
          stderr: new TextDecoder().decode(o.stderr),
        })).catch(() => child.status.then((s) => ({ code: s.code, stdout: "", stderr: "" })));
        return done;
      },
    };
    this.#procs.push(proc);
    return proc;
  }

  /** Creates a bridge in namespace `sw` (created if needed) and returns its name. */
  async addBridge(sw: string, bridge = "br0"): Promise<string> {
    if (!this.#namespaces.includes(this.ns(sw))) await this.addNs(sw);
    await this.exec(sw, [
      "ip",
      "link",
      "add",
      bridge,
      "type",
      "bridge",
      "stp_state",
      "0",
      "mcast_snooping",
      "0",
    ]);
    await this.exec(sw, ["ip", "link", "set", bridge, "up"]);
    return bridge;
  }

  /**
   * Plugs namespace `host` into bridge `bridge` of namespace `sw` with a veth whose end in
   * `host` is called `ifname`; optional MAC and addresses; both ends up. The end in `sw` is
   * called `peer` (default: the lab's prefix and `host`; give one when a host has several links
   * into one switch namespace).
   */
  async plug(
    host: string,
    ifname: string,
    sw: string,
    opts: { bridge?: string; mac?: string; addrs?: string[]; peer?: string } = {},
  ): Promise<void> {
    const peer = (opts.peer ?? `${this.prefix}${host}`).slice(0, 15);
    const tmp = `${this.prefix}t${Math.floor(Math.random() * 1e5)}`.slice(0, 15);
    await this.exec(null, ["ip", "link", "add", tmp, "type", "veth", "peer", "name", peer]);
    await this.exec(null, ["ip", "link", "set", tmp, "netns", this.ns(host)]);
    await this.exec(null, ["ip", "link", "set", peer, "netns", this.ns(sw)]);
    await this.exec(host, ["ip", "link", "set", tmp, "name", ifname]);
    if (opts.mac) await this.exec(host, ["ip", "link", "set", ifname, "address", opts.mac]);
    await this.exec(host, ["sysctl", "-qw", `net.ipv6.conf.${ifname}.accept_dad=0`]);
    for (const a of opts.addrs ?? []) {
      await this.exec(host, ["ip", "addr", "add", a, "dev", ifname]);
    }
    await this.exec(host, ["ip", "link", "set", ifname, "up"]);
    await this.exec(sw, ["ip", "link", "set", peer, "master", opts.bridge ?? "br0"]);
    await this.exec(sw, ["ip", "link", "set", peer, "up"]);
  }

  /** Kills every process and deletes every namespace of this lab. Safe to call twice. */
  async cleanup(): Promise<void> {
    for (const p of this.#procs) p.kill("SIGKILL");
    for (const p of this.#procs) {
      try {
        await p.child.status;
      } catch { /* ignore */ }
    }
    this.#procs.length = 0;
    for (const ns of this.#namespaces.splice(0).reverse()) {
      // Kill anything left inside (e.g. daemons that forked), then delete.
      await runOut(["ip", "netns", "pids", ns]).then(async (o) => {
        for (const pid of o.stdout.split("\n").filter(Boolean)) {
          await runOut(["kill", "-9", pid]);
        }
      });
      await runOut(["ip", "netns", "del", ns]);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

/**
 * Appends each line of `stream` to `into` as it arrives (a partial last line too); resolves
 * when the stream ends or fails (a killed process).
 */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  into: string[],
  onLine?: (line: string) => void,
): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  const push = (line: string) => {
    into.push(line);
    onLine?.(line);
  };
  try {
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
  } catch { /* the process was killed */ }
  if (buf.length > 0) push(buf);
}

async function runOut(args: string[]): Promise<Output> {
  const o = await new Deno.Command(args[0]!, {
    args: args.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

async function run(args: string[]): Promise<void> {
  const o = await runOut(args);
  if (o.code !== 0) throw new Error(`${args.join(" ")} failed ${o.code}: ${o.stderr.trim()}`);
}

/** Polls `fn` every `everyMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  timeoutMs: number,
  everyMs = 20,
): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (performance.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
