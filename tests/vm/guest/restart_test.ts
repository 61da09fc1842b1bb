/**
 * Issue 11 item 8, in the IPVS guest: restarts of the agent with traffic through the VIP. The
 * guest's root namespace is the director (the VIP on lo, NAT, three real servers in namespaces
 * echoing bytes); a client namespace holds 12 long-lived connections through the VIP (a byte
 * echoed every 100 ms on each) and opens a new one every 50 ms while the agent is stopped with
 * SIGTERM and started again (the tools run until the new agent has programmed IPVS, however long
 * that takes under TCG). A poller dumps IPVS every 25 ms and measures how long the virtual
 * service was absent.
 *
 * - `ipvs_on_stop: remove` (the default, keepalived's way): the stop removes the service; the
 *   figures (gap, broken and failed connections) are printed: this is the gap the issue measured
 *   at 5.5 s, now bounded by the new agent's start to its first IPVS pass, which runs first.
 * - `ipvs_on_stop: keep`: the service never disappears, no held connection breaks and no new
 *   one fails; the new agent reconciles in place (no IPVS op for an unchanged file).
 * - A crash (SIGKILL) and a restart with a virtual service removed from the file: the service
 *   the dead agent created is deleted (the state file beside the pid file says it owned it); a
 *   service added by hand stays.
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { Lab, readLines, waitFor } from "../../helpers/netns.ts";
import type { DesiredService } from "../../../lib/ipvs/types.ts";
import type { AgentStatus } from "../../../lib/agent/status_types.ts";
import { controlRequest } from "../../../lib/runtime/control.ts";
import { ipvsUnavailable, openManager, type Session, sh } from "./helpers.ts";

const MAIN = new URL("../../../main.ts", import.meta.url).pathname;
const TOOL = new URL("./conn_tool.ts", import.meta.url).pathname;
const VIP = "10.220.0.100";
const OTHER = "10.220.0.101";
const FOREIGN = "10.220.0.200";
const HELD = 12;

function config(onStop: "keep" | "remove" | null, withOther: boolean): string {
  const rs = [1, 2, 3].map((i) =>
    `      - address: 10.221.${i}.2:7
        checks: [{ type: TCP_CHECK, connect_timeout: 1s, retry: 0 }]`
  ).join("\n");
  return `${onStop === null ? "" : `global:\n  ipvs_on_stop: ${onStop}\n`}virtual_servers:
  - address: ${VIP}:7
    scheduler: rr
    delay_loop: 1s
    real_servers:
${rs}
${
    withOther
      ? `  - address: ${OTHER}:7
    scheduler: wrr
    real_servers: [{ address: 10.221.1.2:7 }]
`
      : ""
  }`;
}

/** The director, three echo servers and a client, with the VIP on the guest's lo. */
async function topology(lab: Lab): Promise<void> {
  await sh(["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  await sh(["ip", "link", "set", "lo", "up"]);
  await sh(["ip", "addr", "replace", `${VIP}/32`, "dev", "lo"]);
  await sh(["ip", "addr", "replace", `${OTHER}/32`, "dev", "lo"]);
  const link = async (ns: string, host: string, hostAddr: string, nsAddr: string) => {
    await lab.addNs(ns);
    await lab.exec(null, ["ip", "link", "add", host, "type", "veth", "peer", "name", "eth0"]);
    await lab.exec(null, ["ip", "link", "set", "eth0", "netns", lab.ns(ns)]);
    await lab.exec(null, ["ip", "addr", "add", hostAddr, "dev", host]);
    await lab.exec(null, ["ip", "link", "set", host, "up"]);
    await lab.exec(ns, ["ip", "addr", "add", nsAddr, "dev", "eth0"]);
    await lab.exec(ns, ["ip", "link", "set", "eth0", "up"]);
    await lab.exec(ns, ["ip", "route", "add", "default", "via", hostAddr.split("/")[0]!]);
  };
  await link("cli", `${lab.prefix}c`, "10.220.9.1/24", "10.220.9.2/24");
  for (const i of [1, 2, 3]) {
    await link(`rs${i}`, `${lab.prefix}r${i}`, `10.221.${i}.1/24`, `10.221.${i}.2/24`);
    lab.spawn(`rs${i}`, [Deno.execPath(), "run", "-A", "--no-check", TOOL, "echo", "7"]);
  }
  for (const i of [1, 2, 3]) {
    await waitFor(
      async () =>
        (await lab.tryExec(`rs${i}`, ["ss", "-ltn", "sport", "= :7"])).stdout.includes("LISTEN"),
      60_000,
      200,
    );
  }
}

interface Agent {
  child: Deno.ChildProcess;
  startedAt: number;
}

function startAgent(dir: string): Agent {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-check",
      MAIN,
      "--config",
      `${dir}/ha.yaml`,
      "--control",
      `${dir}/ha.sock`,
      "--pid-file",
      `${dir}/ha.pid`,
      "--dump-dir",
      dir,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return { child, startedAt: performance.now() };
}

function find(services: DesiredService[], address: string): DesiredService | undefined {
  return services.find((s) => "address" in s.key && s.key.address === address);
}

/** Polls IPVS every 25 ms; records when the VIP's service had no destination. */
function poll(session: Session): { stop(): Promise<{ absentMs: number; windows: string[] }> } {
  let running = true;
  let absentMs = 0;
  let absentSince: number | null = null;
  const windows: string[] = [];
  const t0 = performance.now();
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      const s = find(await session.m.dump().catch(() => []), VIP);
      const present = s !== undefined && s.destinations.length > 0;
      if (!present && absentSince === null) absentSince = t;
      if (present && absentSince !== null) {
        absentMs += t - absentSince;
        windows.push(`${(absentSince - t0).toFixed(0)}+${(t - absentSince).toFixed(0)} ms`);
        absentSince = null;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      if (absentSince !== null) absentMs += performance.now() - absentSince;
      return { absentMs, windows };
    },
  };
}

async function waitProgrammed(session: Session, ms: number): Promise<number> {
  const t = performance.now();
  await waitFor(
    async () => (find(await session.m.dump(), VIP)?.destinations.length ?? 0) === 3,
    ms,
    25,
  );
  return performance.now() - t;
}

async function stopAgent(a: Agent, signal: Deno.Signal = "SIGTERM"): Promise<number> {
  a.child.kill(signal);
  return (await a.child.status).code;
}

/** Starts a connection tool in the client namespace; resolves once it said "ready". */
async function tool(lab: Lab, args: string[]): Promise<{ result(): Promise<Counted> }> {
  const p = lab.spawn("cli", [Deno.execPath(), "run", "-A", "--no-check", TOOL, ...args], {
    stdout: "piped",
    stderr: "piped",
  });
  const err: string[] = [];
  const done = readLines(p.child.stderr, err);
  await waitFor(() => err.includes("ready"), 300_000, 100);
  return {
    async result() {
      const out: string[] = [];
      await readLines(p.child.stdout, out);
      await done;
      const last = out.filter((l) => l.startsWith("{")).pop();
      if (last === undefined) throw new Error(`${args[0]} printed no result: ${err.join("\n")}`);
      return JSON.parse(last) as Counted;
    },
  };
}

interface Counted {
  opened?: number;
  broken?: number;
  reasons?: string[];
  maxEchoMs?: number;
  tried?: number;
  failed?: number;
  failures?: { atMs: number; reason: string }[];
  maxMs?: number;
}

/** Runs one restart with traffic; returns what was counted. */
async function restartWithTraffic(lab: Lab, session: Session, dir: string) {
  const first = startAgent(dir);
  await waitProgrammed(session, 600_000);
  const stopFile = `${dir}/stop-traffic`;
  await Deno.remove(stopFile).catch(() => {});
  const hold = await tool(lab, ["hold", VIP, "7", String(HELD), stopFile]);
  const probe = await tool(lab, ["probe", VIP, "7", "50", stopFile]);
  // Every real server checked up at least once, and traffic flowing.
  await new Promise((r) => setTimeout(r, 3000));
  const watch = poll(session);
  const stopped = await stopAgent(first);
  const second = startAgent(dir);
  const t = performance.now();
  await waitProgrammed(session, 600_000);
  const backMs = performance.now() - t;
  // The new agent's first IPVS pass is done once it wrote the state file ("running"); the
  // traffic goes on through it, and 3 s more.
  await waitFor(
    async () => {
      try {
        return JSON.parse(await Deno.readTextFile(`${dir}/ha.ipvs.json`)).left === "running";
      } catch {
        return false;
      }
    },
    600_000,
    100,
  );
  const status = await controlRequest(`${dir}/ha.sock`, { cmd: "status" }, 30_000) as AgentStatus;
  const passMs = performance.now() - t;
  await new Promise((r) => setTimeout(r, 3000));
  await Deno.writeTextFile(stopFile, "");
  const held = await hold.result();
  const probed = await probe.result();
  const gap = await watch.stop();
  return { stopped, second, backMs, passMs, status, held, probed, gap };
}

Deno.test({
  name: "restart in the guest: ipvs_on_stop remove (default) vs keep, with connections counted",
  ignore: ipvsUnavailable() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await sh(["ipvsadm", "-C"]);
    await using lab = await Lab.create("rst");
    await using session = await openManager();
    await topology(lab);
    const dir = await Deno.makeTempDir();
    try {
      for (const mode of ["remove", "keep"] as const) {
        await Deno.writeTextFile(`${dir}/ha.yaml`, config(mode === "keep" ? "keep" : null, false));
        const r = await restartWithTraffic(lab, session, dir);
        const state = JSON.parse(await Deno.readTextFile(`${dir}/ha.ipvs.json`));
        console.log(
          `ipvs_on_stop ${mode}: service absent ${r.gap.absentMs.toFixed(0)} ms ` +
            `[${r.gap.windows.join(", ")}]; new agent exec -> service programmed ` +
            `${r.backMs.toFixed(0)} ms, -> its first IPVS pass done ${r.passMs.toFixed(0)} ms ` +
            `(${r.status.ipvs.lastOps} op(s)); held connections ${r.held.opened}/${HELD} opened, ` +
            `${r.held.broken} broken (slowest echo ${r.held.maxEchoMs} ms); new connections ` +
            `${r.probed.tried} tried, ${r.probed.failed} failed (slowest ${r.probed.maxMs} ms); ` +
            `state ${JSON.stringify(state)}`,
        );
        if ((r.held.broken ?? 0) > 0) console.log(`  broken: ${r.held.reasons?.join("; ")}`);
        assertEquals(r.stopped, 0, "the first agent stops cleanly");
        assertEquals(r.held.opened, HELD);
        if (mode === "keep") {
          assertEquals(r.gap.absentMs, 0, `the service was absent: ${r.gap.windows.join(", ")}`);
          assertEquals(r.held.broken, 0, r.held.reasons?.join("; "));
          assertEquals(r.probed.failed, 0, JSON.stringify(r.probed.failures));
          // Reconciled in place: the new agent found the rules as they should be.
          assertEquals(state.left, "running");
          assertEquals(r.status.ipvs.lastOps, 0);
          assertEquals(r.status.ipvs.errors, 0);
        } else {
          // The default removes the service at stop (nothing unchecked is left serving).
          assert(r.gap.absentMs > 0, "remove: the stop removed the service");
        }
        assertEquals(await stopAgent(r.second), 0);
        await sh(["ipvsadm", "-C"]);
        await Deno.remove(`${dir}/ha.ipvs.json`).catch(() => {});
      }
    } finally {
      await sh(["ipvsadm", "-C"]).catch(() => "");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "crash in the guest: a service the dead agent owned and the file dropped is removed",
  ignore: ipvsUnavailable() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await sh(["ipvsadm", "-C"]);
    await sh(["ip", "link", "set", "lo", "up"]);
    await using session = await openManager();
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/ha.yaml`, config(null, true));
      await sh(["ipvsadm", "-A", "-t", `${FOREIGN}:7`, "-s", "rr"]);
      const a = startAgent(dir);
      await waitFor(async () => find(await session.m.dump(), OTHER) !== undefined, 600_000, 50);
      await waitFor(
        async () => {
          try {
            return JSON.parse(await Deno.readTextFile(`${dir}/ha.ipvs.json`)).owned.length === 2;
          } catch {
            return false;
          }
        },
        30_000,
        50,
      );
      await stopAgent(a, "SIGKILL");
      assert(find(await session.m.dump(), OTHER) !== undefined, "a crash leaves the services");
      await Deno.writeTextFile(`${dir}/ha.yaml`, config(null, false));
      const b = startAgent(dir);
      await waitFor(async () => find(await session.m.dump(), OTHER) === undefined, 600_000, 50);
      const after = await session.m.dump();
      console.log(
        `after the crash and restart: ${after.map((s) => JSON.stringify(s.key)).join(", ")}`,
      );
      assert(find(after, VIP) !== undefined, "the service still in the file stays");
      assert(find(after, FOREIGN) !== undefined, "a service added by hand stays");
      assertEquals(await stopAgent(b), 0);
      const left = await session.m.dump();
      assertEquals(left.map((s) => "address" in s.key ? s.key.address : ""), [FOREIGN]);
      const state = JSON.parse(await Deno.readTextFile(`${dir}/ha.ipvs.json`));
      assertEquals(state.left, "removed");
      assertEquals(state.owned, []);
    } finally {
      await sh(["ipvsadm", "-C"]).catch(() => "");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
