/**
 * The agent's command line at run time, in namespaces: `--control` and `--pid-file` let two
 * agents run side by side; the pid file and the control socket live exactly as long as the
 * agent; a second agent on the same pid file (or control socket) refuses to start; `haagent
 * status` as a table and as JSON; SIGTERM and SIGINT stop with exit 0; a crash leaves stale
 * files that the next start replaces; and a missing interface is a FAULT that clears when the
 * interface is created.
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { netnsUnavailable, type Output, waitFor } from "../helpers/netns.ts";
import { type Agent, type RouterName, VrrpLab } from "../helpers/vrrp_lab.ts";
import type { AgentStatus } from "../../lib/agent/status_types.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`cli runtime tests skipped: ${why}`);
const ignore = why !== null;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = `${ROOT}main.ts`;
const VIP = "10.77.0.50";

function yaml(router: string, prio: number, iface = "eth0", vip = `${VIP}/24`): string {
  return `global:
  router_id: ${router}
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: ${iface}
    vrid: 51
    priority: ${prio}
    advert_interval: 100ms
    virtual_ipaddresses: [${vip}]
`;
}

/** Runs the haagent CLI on the host. */
async function cli(...args: string[]): Promise<Output> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

/** Runs an agent to its end in a router's namespace (for agents that must refuse to start). */
async function runToEnd(lab: VrrpLab, router: RouterName, args: string[]): Promise<Output> {
  const p = lab.lab.spawn(router, ["deno", "run", "-A", "--quiet", MAIN, ...args], {
    stdout: "piped",
    stderr: "piped",
  });
  const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
  try {
    return await p.output();
  } finally {
    clearTimeout(timer);
  }
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await Deno.lstat(path)).isSocket === true;
  } catch {
    return false;
  }
}

async function gone(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return false;
  } catch (e) {
    return e instanceof Deno.errors.NotFound;
  }
}

function files(lab: VrrpLab, router: RouterName) {
  return {
    config: `${lab.dir}/${router}.yaml`,
    control: `${lab.dir}/${router}.sock`,
    pid: `${lab.dir}/${router}.pid`,
  };
}

async function waitReady(lab: VrrpLab, a: Agent, state: string): Promise<AgentStatus> {
  await lab.waitState(a, state, 10_000);
  return (await lab.status(a))!;
}

Deno.test({
  name: "cli runtime: two agents side by side, pid file and socket lifetimes, status, signals",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("cr");
    const r1 = lab.startHaagent("r1", yaml("r1", 150));
    const f1 = files(lab, "r1"), f2 = files(lab, "r2");
    const st1 = await waitReady(lab, r1, "MASTER");
    const r2 = lab.startHaagent("r2", yaml("r2", 100));
    const st2 = await waitReady(lab, r2, "BACKUP");

    // Distinct sockets and pid files, each naming its own agent.
    assert(f1.control !== f2.control && f1.pid !== f2.pid);
    assertEquals(st1.pid, r1.proc.pid, "ip netns exec runs the agent in its own process");
    assertEquals(st2.pid, r2.proc.pid);
    assertEquals(await Deno.readTextFile(f1.pid), `${r1.proc.pid}\n`);
    assertEquals(await Deno.readTextFile(f2.pid), `${r2.proc.pid}\n`);
    assert(await isSocket(f1.control) && await isSocket(f2.control));
    assertEquals(((await Deno.stat(f1.control)).mode ?? 0) & 0o777, 0o600, "socket mode");
    assertEquals(st1.routerId, "r1");
    assertEquals(st2.routerId, "r2");
    // The VRRP thread waits on itself once its first event (on a helper thread) has come: the
    // runtime's epoll fd was found (ffi/runtime_wait.ts). A backup's first event is an advert
    // (1 s) or its master-down timer.
    for (const a of [r1, r2]) {
      let last: AgentStatus["process"] | undefined;
      const on = await waitFor(
        async () => {
          last = (await lab.status(a))?.process;
          return (last?.waits.onThread ?? 0) > 0;
        },
        10_000,
        100,
      ).catch(() => false);
      assert(on, `no wait on the JS thread within 10 s: ${JSON.stringify(last)}`);
    }

    // haagent status: the table.
    let r = await cli("status", "--control", f1.control);
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assertMatch(lines[0]!, new RegExp(`^haagent \\S+ pid ${r1.proc.pid} router_id r1 up \\d+s`));
    const head = lines.find((l) => l.startsWith("INSTANCE"));
    assert(head !== undefined, r.stdout);
    for (const col of ["IFACE", "VRID", "VER", "STATE", "PRIO", "MASTER", "VIPS", "SINCE"]) {
      assert(head.includes(col), `table header lacks ${col}: ${head}`);
    }
    const row = lines.find((l) => l.startsWith("VI_1"))?.split(/\s+/);
    assert(row !== undefined, r.stdout);
    assertEquals(row.slice(0, 8), [
      "VI_1",
      "eth0",
      "51",
      "v3",
      "MASTER",
      "150",
      "10.77.0.1",
      `${VIP}/24`,
    ]);
    r = await cli("status", "--control", f2.control);
    assertEquals(r.code, 0, r.stderr);
    const row2 = r.stdout.split("\n").find((l) => l.startsWith("VI_1"))?.split(/\s+/);
    assertEquals(row2?.slice(0, 8), [
      "VI_1",
      "eth0",
      "51",
      "v3",
      "BACKUP",
      "100",
      "10.77.0.1",
      `${VIP}/24`,
    ]);

    // haagent status --json.
    r = await cli("status", "--json", "--control", f2.control);
    assertEquals(r.code, 0, r.stderr);
    const js = JSON.parse(r.stdout) as AgentStatus;
    assertEquals(js.pid, r2.proc.pid);
    assertEquals(js.configFile, f2.config);
    assertEquals(js.instances.length, 1);
    const i = js.instances[0]!;
    assertEquals(
      [i.name, i.interface, i.vrid, i.version, i.state, i.priority, i.effectivePriority, i.vips],
      ["VI_1", "eth0", 51, 3, "BACKUP", 100, 100, [`${VIP}/24`]],
    );
    assertEquals(i.masterAddress, "10.77.0.1");
    assertEquals(i.advertIntervalMs, 100);

    // A second agent on r1's pid file refuses to start and leaves r1's files alone.
    const other = `${lab.dir}/third.sock`;
    let o = await runToEnd(lab, "r2", ["-f", f2.config, "--control", other, "--pid-file", f1.pid]);
    assertEquals(o.code, 1, o.stderr);
    assert(o.stderr.includes(f1.pid), `the refusal does not name the pid file:\n${o.stderr}`);
    assertMatch(o.stderr, new RegExp(`running process \\(${r1.proc.pid}\\)`));
    assertEquals(await Deno.readTextFile(f1.pid), `${r1.proc.pid}\n`, "r1's pid file changed");
    assert(await gone(other), "the refused agent left its control socket");
    // ... and so does one on r1's control socket (with a pid file of its own).
    const pid3 = `${lab.dir}/third.pid`;
    o = await runToEnd(lab, "r2", ["-f", f2.config, "--control", f1.control, "--pid-file", pid3]);
    assertEquals(o.code, 1, o.stderr);
    assert(o.stderr.includes(f1.control), `the refusal does not name the socket:\n${o.stderr}`);
    assert(await gone(pid3), "the refused agent left its pid file");
    assertEquals((await lab.status(r1))?.pid, r1.proc.pid, "r1's control socket was taken");
    assertEquals((await lab.status(r1))?.instances[0]?.state, "MASTER");

    // SIGTERM: exit 0, the VIP moves to r2, pid file and socket are removed.
    assertEquals(await lab.stop(r1), 0);
    assert(r1.log.some((l) => l.includes("stopped")), r1.log.join("\n"));
    assert(await gone(f1.pid), "pid file left after SIGTERM");
    assert(await gone(f1.control), "control socket left after SIGTERM");
    assert(!(await lab.hasVip("r1", VIP)), "r1 kept the VIP after SIGTERM");
    await lab.waitVip("r2", VIP, 3000);
    r = await cli("status", "--control", f1.control);
    assertEquals(r.code, 3, "status of a stopped agent");

    // SIGUSR1 logs the status as JSON.
    await lab.waitState(r2, "MASTER", 3000);
    r2.proc.kill("SIGUSR1");
    await waitFor(() => r2.log.some((l) => l.includes('status {"version":')), 3000);
    const line = r2.log.find((l) => l.includes('status {"version":'))!;
    const usr1 = JSON.parse(line.slice(line.indexOf("{"))) as AgentStatus;
    assertEquals(usr1.instances[0]?.state, "MASTER");

    // SIGINT stops cleanly too.
    r2.proc.kill("SIGINT");
    assertEquals((await r2.proc.child.status).code, 0);
    assert(await gone(f2.pid), "pid file left after SIGINT");
    assert(await gone(f2.control), "control socket left after SIGINT");
    assert(!(await lab.hasVip("r2", VIP)), "r2 kept the VIP after SIGINT");
  },
});

Deno.test({
  name: "cli runtime: after a crash the stale pid file and socket do not block a new start",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("cs");
    const a = lab.startHaagent("r1", yaml("r1", 150));
    const f = files(lab, "r1");
    await waitReady(lab, a, "MASTER");
    const oldPid = a.proc.pid;
    await lab.crash(a);
    assertEquals(await Deno.readTextFile(f.pid), `${oldPid}\n`, "a crash leaves the pid file");
    assert(await isSocket(f.control), "a crash leaves the socket");
    assertEquals((await cli("status", "--control", f.control)).code, 3);
    const b = lab.startHaagent("r1", yaml("r1", 150));
    const st = await waitReady(lab, b, "MASTER");
    assertEquals(st.pid, b.proc.pid);
    assertEquals(await Deno.readTextFile(f.pid), `${b.proc.pid}\n`);
    assertEquals(await lab.stop(b), 0);
    assert(await gone(f.pid) && await gone(f.control));
  },
});

/** State transitions of VI_1 in an agent's log, as "FROM -> TO". */
function transitions(log: string[]): string[] {
  return log.flatMap((l) => {
    const m = /vrrp VI_1: ([A-Z]+ -> [A-Z]+):/.exec(l);
    return m ? [m[1]!] : [];
  });
}

/** Creates eth9 (a veth whose peer stays in the namespace) in the given steps. */
async function createEth9(lab: VrrpLab, upFirst: boolean): Promise<void> {
  const ex = (args: string[]) => lab.lab.exec("r1", args);
  await ex(["ip", "link", "add", "eth9", "type", "veth", "peer", "name", "eth9p"]);
  await ex(["ip", "link", "set", "eth9p", "up"]);
  if (upFirst) await ex(["ip", "link", "set", "eth9", "up"]);
  await ex(["ip", "addr", "add", "10.99.0.1/24", "dev", "eth9"]);
  if (!upFirst) await ex(["ip", "link", "set", "eth9", "up"]);
}

Deno.test({
  name: "cli runtime: a missing interface is FAULT with one log line until it is created",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("cf");
    const a = lab.startHaagent("r1", yaml("r1", 100, "eth9", "10.99.0.50/24"));
    const st = await waitReady(lab, a, "FAULT");
    assertMatch(st.instances[0]!.reason, /eth9/);
    assertEquals((await cli("status", "--control", a.control!)).code, 0);
    // Several advert intervals in FAULT: the missing interface is logged once, not per tick.
    await new Promise((r) => setTimeout(r, 1500));
    const waiting = a.log.filter((l) => /eth9.*instance in FAULT until it appears/.test(l));
    assertEquals(waiting.length, 1, a.log.join("\n"));
    assertEquals(a.log.filter((l) => /vrrp VI_1: .* -> FAULT/.test(l)).length, 1, a.log.join("\n"));
    assertEquals((await lab.status(a))?.instances[0]?.state, "FAULT");

    await createEth9(lab, true);
    await lab.waitState(a, "MASTER", 5000);
    await lab.waitVip("r1", "10.99.0.50", 3000);
    const t = transitions(a.log);
    assertEquals(t[0], "INIT -> FAULT");
    assertEquals(t.slice(-2), ["FAULT -> BACKUP", "BACKUP -> MASTER"], t.join(", "));
    assertEquals(await lab.stop(a), 0);
  },
});

Deno.test({
  name: "cli runtime: an interface that appears down stays FAULT until it is up",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("cd");
    const a = lab.startHaagent("r1", yaml("r1", 100, "eth9", "10.99.0.50/24"));
    await waitReady(lab, a, "FAULT");
    // Created down, given its address, then brought up (the order of ifupdown and networkd).
    await createEth9(lab, false);
    await lab.waitState(a, "MASTER", 5000);
    // keepalived: a down interface is FAULT; only its coming up leads to BACKUP, once.
    assertEquals(
      transitions(a.log),
      ["INIT -> FAULT", "FAULT -> BACKUP", "BACKUP -> MASTER"],
      a.log.join("\n"),
    );
    assertEquals(await lab.stop(a), 0);
  },
});

Deno.test({
  name: "cli runtime: a deleted interface is MASTER -> FAULT, without a pass through INIT",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("cx");
    const a = lab.startHaagent("r1", yaml("r1", 100, "eth9", "10.99.0.50/24"));
    await waitReady(lab, a, "FAULT");
    await createEth9(lab, true);
    await lab.waitState(a, "MASTER", 5000);
    const n = transitions(a.log).length;
    await lab.lab.exec("r1", ["ip", "link", "del", "eth9"]);
    await lab.waitState(a, "FAULT", 5000);
    await new Promise((r) => setTimeout(r, 300));
    // An INIT in between would run notify_stop and then notify_fault.
    assertEquals(transitions(a.log).slice(n), ["MASTER -> FAULT"], a.log.join("\n"));
    // It comes back when the interface does.
    await createEth9(lab, true);
    await lab.waitState(a, "MASTER", 5000);
    assertEquals(await lab.stop(a), 0);
  },
});

Deno.test({
  name: "cli runtime: a pid_file changed by a reload does not leave the old pid file behind",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("cp");
    const [pidA, pidB, sock] = ["a.pid", "b.pid", "a.sock"].map((n) => `${lab.dir}/${n}`);
    const config = `${lab.dir}/global.yaml`;
    const text = (pid: string) =>
      `global:\n  pid_file: ${pid}\n  control: ${sock}\n` +
      yaml("r1", 150).replace("global:\n", "");
    await Deno.writeTextFile(config, text(pidA!));
    // No --pid-file / --control: both come from the file.
    const p = lab.lab.spawn("r1", ["deno", "run", "-A", "--quiet", MAIN, "-f", config], {
      stderr: "piped",
    });
    const a: Agent = { kind: "haagent", router: "r1", proc: p, control: sock!, log: [] };
    await lab.waitState(a, "MASTER", 10_000);
    assertEquals(await Deno.readTextFile(pidA!), `${p.pid}\n`);
    await Deno.writeTextFile(config, text(pidB!));
    const r = await cli("reload", "--control", sock!);
    assertEquals(r.code, 0, r.stderr);
    p.kill("SIGTERM");
    assertEquals((await p.child.status).code, 0);
    // The file the agent wrote is the one it must remove (it never wrote b.pid).
    assert(await gone(pidA!), "a.pid left behind after SIGTERM");
    assert(await gone(pidB!));
    assert(await gone(sock!), "control socket left behind");
  },
});
