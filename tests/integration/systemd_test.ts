/**
 * The agent under a service manager, in namespaces, with a socket playing systemd's notify
 * socket (tests/integration/fixtures/notify_listener.ts, in the agent's namespace so that
 * abstract names work): READY once started with a STATUS line that follows the VRRP state,
 * WATCHDOG=1 every WATCHDOG_USEC / 2 (gaps measured), RELOADING (with MONOTONIC_USEC) then READY
 * on SIGHUP, on `haagent reload` and on a refused file, no keep-alive while the event loop is
 * stalled (the test-only `test-stall` hook), STOPPING on SIGTERM; WATCHDOG=trigger when an
 * instance cannot reopen its VRRP socket (the agent out of file descriptors); and journal
 * priorities on stderr when $JOURNAL_STREAM names it.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { type LabProcess, netnsUnavailable, readLines, waitFor } from "../helpers/netns.ts";
import { type Agent, VrrpLab } from "../helpers/vrrp_lab.ts";
import { controlRequest } from "../../lib/runtime/control.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`systemd tests skipped: ${why}`);
const ignore = why !== null;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LISTENER = fileURLToPath(new URL("./fixtures/notify_listener.ts", import.meta.url));

/** One datagram the listener received. */
interface Note {
  t: number;
  mono: bigint;
  msg: string;
  fields: Map<string, string>;
}

/** The notify socket's side of the conversation. */
class Listener {
  readonly notes: Note[] = [];
  readonly proc: LabProcess;
  readonly lines: string[] = [];

  constructor(proc: LabProcess) {
    this.proc = proc;
    void readLines(proc.child.stdout, this.lines, (l) => {
      if (!l.startsWith("{")) return;
      const o = JSON.parse(l) as { t: number; mono: string; msg: string };
      const fields = new Map<string, string>();
      for (const kv of o.msg.split("\n")) {
        const i = kv.indexOf("=");
        if (i > 0) fields.set(kv.slice(0, i), kv.slice(i + 1));
      }
      this.notes.push({ t: o.t, mono: BigInt(o.mono), msg: o.msg, fields });
    });
  }

  static async start(lab: VrrpLab, address: string): Promise<Listener> {
    const proc = lab.lab.spawn("r1", [Deno.execPath(), "run", "-A", "--quiet", LISTENER, address], {
      stdout: "piped",
      stderr: "inherit",
    });
    const l = new Listener(proc);
    await waitFor(() => l.lines.includes("listening"), 20_000);
    return l;
  }

  /** Notes carrying field `key` (with `value` when given), from index `from`. */
  with(key: string, value?: string, from = 0): Note[] {
    return this.notes.slice(from).filter((n) =>
      n.fields.has(key) && (value === undefined || n.fields.get(key) === value)
    );
  }

  /** Waits for a note with `key` (= `value`) after index `from`; returns it. */
  async next(key: string, value: string | undefined, from: number, timeoutMs = 15_000) {
    try {
      await waitFor(() => this.with(key, value, from).length > 0, timeoutMs);
    } catch {
      throw new Error(
        `no ${key}${value !== undefined ? `=${value}` : ""} within ${timeoutMs} ms; got:\n` +
          this.notes.slice(from).map((n) => JSON.stringify(n.msg)).join("\n"),
      );
    }
    return this.with(key, value, from)[0]!;
  }
}

function yaml(instances: string): string {
  return `global:
  router_id: r1
  vrrp_version: 3
vrrp_instances:
${instances}`;
}

const VI_1 = `  VI_1:
    interface: eth0
    vrid: 51
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.50/24]
`;

/** Gaps between consecutive times, ms. */
function gaps(ts: number[]): number[] {
  return ts.slice(1).map((t, i) => t - ts[i]!);
}

function hup(a: Agent): Promise<string> {
  return new Deno.Command("kill", { args: ["-HUP", String(a.proc.pid)] }).output().then((o) =>
    new TextDecoder().decode(o.stderr)
  );
}

async function cli(...args: string[]) {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `${ROOT}main.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

Deno.test({
  name: "systemd: READY, STATUS, WATCHDOG period, RELOADING/READY, stall, STOPPING",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("sd");
    const address = `@haagent-notify-${lab.lab.prefix}`;
    const sd = await Listener.start(lab, address);
    const a = lab.startHaagent("r1", yaml(VI_1), [], {
      NOTIFY_SOCKET: address,
      WATCHDOG_USEC: "1000000",
      HAAGENT_TEST_HOOKS: "1",
    });

    // READY once started (the instance is BACKUP then), then STATUS follows it to MASTER.
    const ready = await sd.next("READY", "1", 0);
    assertEquals(ready.fields.get("STATUS"), "1 BACKUP", ready.msg);
    const master = await sd.next("STATUS", "1 MASTER", 0);
    assert(master.t > ready.t);
    assertEquals(sd.with("READY").length, 1);

    // WATCHDOG=1 every WATCHDOG_USEC / 2 = 500 ms, measured over 6 s.
    const from = sd.notes.length;
    await new Promise((r) => setTimeout(r, 6000));
    const pings = sd.with("WATCHDOG", "1", from).map((n) => n.t);
    const g = gaps(pings);
    const min = Math.min(...g), max = Math.max(...g);
    console.log(
      `watchdog: ${pings.length} pings in 6 s, gap min ${min.toFixed(1)} ms, ` +
        `max ${max.toFixed(1)} ms (period 500 ms, WATCHDOG_USEC 1000 ms)`,
    );
    assert(pings.length >= 10, `${pings.length} pings`);
    assert(min > 400, `gap min ${min}`);
    assert(max < 1000, `gap max ${max}: systemd would have restarted the agent`);

    // SIGHUP: RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC), then READY=1.
    let mark = sd.notes.length;
    await hup(a);
    const reloading = await sd.next("RELOADING", "1", mark);
    const mono = BigInt(reloading.fields.get("MONOTONIC_USEC") ?? "0");
    assert(
      mono > 0n && reloading.mono - mono >= 0n && reloading.mono - mono < 1_000_000n,
      `MONOTONIC_USEC ${mono} vs the listener's CLOCK_MONOTONIC ${reloading.mono}`,
    );
    const again = await sd.next("READY", "1", mark);
    assert(again.t >= reloading.t);
    assertEquals(again.fields.get("STATUS"), "1 MASTER");

    // `haagent reload`: the same pair.
    mark = sd.notes.length;
    const r = await cli("reload", "--control", a.control!);
    assertEquals(r.code, 0, r.stderr);
    await sd.next("RELOADING", "1", mark);
    await sd.next("READY", "1", mark);

    // A refused file: RELOADING, READY (the old configuration runs), and the status says so.
    mark = sd.notes.length;
    await Deno.writeTextFile(`${lab.dir}/r1.yaml`, yaml(VI_1) + "    priority: 999\n");
    await hup(a);
    await sd.next("RELOADING", "1", mark);
    const refused = await sd.next("READY", "1", mark);
    assertEquals(refused.fields.get("STATUS"), "1 MASTER, last reload refused");

    // The event loop stalled for 3 s: no keep-alive meanwhile, then it resumes.
    mark = sd.notes.length;
    const stall = await controlRequest(a.control!, { cmd: "test-stall", ms: 3000 });
    assertEquals(stall, { stallMs: 3000 });
    await new Promise((r) => setTimeout(r, 4500));
    // From the last keep-alive before the stall request.
    const before = sd.with("WATCHDOG", "1").filter((n) => sd.notes.indexOf(n) < mark).at(-1)!;
    const around = sd.with("WATCHDOG", "1", sd.notes.indexOf(before)).map((n) => n.t);
    const longest = Math.max(...gaps(around));
    console.log(`watchdog around a 3000 ms stall: longest gap ${longest.toFixed(1)} ms`);
    assert(
      longest >= 2900,
      `the keep-alive went on during the stall (longest gap ${longest})\n${a.log.join("\n")}`,
    );
    assert(around.length >= 3, "pings resumed after the stall");
    assert(a.log.some((l) => l.includes("test-stall")));

    // SIGTERM: STOPPING=1, exit 0.
    mark = sd.notes.length;
    assertEquals(await lab.stop(a), 0);
    await sd.next("STOPPING", "1", mark, 5000);
  },
});

Deno.test({
  name: "systemd: without HAAGENT_TEST_HOOKS there is no test-stall command",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("sdh");
    const a = lab.startHaagent("r1", yaml(VI_1));
    await lab.waitState(a, "MASTER", 15_000);
    let err = "";
    try {
      await controlRequest(a.control!, { cmd: "test-stall", ms: 1000 });
    } catch (e) {
      err = (e as Error).message;
    }
    assertEquals(err, 'unknown command "test-stall"');
  },
});

Deno.test({
  name: "systemd: WATCHDOG=trigger when an instance cannot reopen its VRRP socket (EMFILE)",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("sdt");
    const addEth1 = async () => {
      await lab.lab.exec("r1", [
        "ip",
        "link",
        "add",
        "eth1",
        "type",
        "veth",
        "peer",
        "name",
        "eth1b",
      ]);
      await lab.lab.exec("r1", ["ip", "addr", "add", "10.78.0.1/24", "dev", "eth1"]);
      await lab.lab.exec("r1", ["ip", "link", "set", "eth1b", "up"]);
      await lab.lab.exec("r1", ["ip", "link", "set", "eth1", "up"]);
    };
    await addEth1();
    const address = `@haagent-notify-${lab.lab.prefix}`;
    const sd = await Listener.start(lab, address);
    const a = lab.startHaagent(
      "r1",
      yaml(VI_1 + VI_1.replace("VI_1", "VI_2").replace("eth0", "eth1").replace("10.77", "10.78")),
      [],
      { NOTIFY_SOCKET: address, WATCHDOG_USEC: "2000000" },
    );
    await sd.next("STATUS", "2 MASTER", 0);

    // No new file descriptor for the agent from now on; VI_2's interface goes and comes back,
    // so the instance must reopen its sockets, and cannot.
    const pid = String(a.proc.pid);
    await lab.lab.exec(null, ["prlimit", "--pid", pid, "--nofile=3:"]);
    await lab.lab.exec("r1", ["ip", "link", "del", "eth1"]);
    const mark = sd.notes.length;
    await addEth1();
    const trigger = await sd.next("WATCHDOG", "trigger", mark, 40_000);
    const status = trigger.fields.get("STATUS") ?? "";
    assertMatch(status, /^instance VI_2 cannot open its VRRP sockets after 5 attempts: .*EMFILE/);
    const firstFail = a.log.find((l) => l.includes("cannot open VRRP sockets"));
    assert(firstFail !== undefined, a.log.join("\n"));
    // The keep-alive stops with the trigger (a manager ignoring it still times out).
    await new Promise((r) => setTimeout(r, 3000));
    assertEquals(sd.with("WATCHDOG", "1", sd.notes.indexOf(trigger)).length, 0);
    // VI_1 went on meanwhile.
    assert(await lab.hasVip("r1", "10.77.0.50"));
    await lab.lab.exec(null, ["prlimit", "--pid", pid, "--nofile=1024:"]);
  },
});

Deno.test({
  name: "systemd: log lines carry <N> instead of a timestamp when stderr is $JOURNAL_STREAM",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("sdj");
    // As journald would: JOURNAL_STREAM names the agent's own stderr (here a pipe).
    await Deno.writeTextFile(`${lab.dir}/j.yaml`, yaml(VI_1));
    const cmd = `export JOURNAL_STREAM="$(stat -L -c %d:%i /proc/self/fd/2)"; exec "$@"`;
    const p = lab.lab.spawn("r1", [
      "sh",
      "-c",
      cmd,
      "sh",
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      `${ROOT}main.ts`,
      "--config",
      `${lab.dir}/j.yaml`,
      "--control",
      `${lab.dir}/j.sock`,
      "--pid-file",
      `${lab.dir}/j.pid`,
    ], { stderr: "piped" });
    const lines: string[] = [];
    const done = readLines(p.child.stderr, lines);
    await waitFor(() => lines.some((l) => l.includes("BACKUP -> MASTER")), 20_000);
    p.kill("SIGTERM");
    await p.child.status;
    await done;
    assert(lines.length > 3, lines.join("\n"));
    for (const l of lines) assertMatch(l, /^<[3-7]>(ERROR|WARN |INFO |DEBUG) \S/);
    assert(lines.some((l) => l.startsWith("<6>INFO  vrrp VI_1: BACKUP -> MASTER")));
    assert(!lines.some((l) => /\d{4}-\d\d-\d\dT\d\d:/.test(l.slice(0, 30))), "no timestamps");
  },
});
