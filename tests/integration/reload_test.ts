/**
 * Reload of a running agent, in namespaces: r1 runs haagent as master of two VRRPv3 instances
 * (100 ms adverts), r2 runs haagent as their backup. Checks that a reload of an unchanged file
 * (SIGHUP and `haagent reload`) removes no address, sends no priority 0 and leaves no gap in
 * the adverts; that a refused file changes nothing and the agent goes on; and that a changed
 * priority restarts only its instance (the peer preempts) while the other keeps its VIP.
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveCommand, type LabProcess, netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { type Agent, type CapturedAdvert, ROUTERS, VrrpLab } from "../helpers/vrrp_lab.ts";
import type { AgentStatus, InstanceStatus } from "../../lib/agent/status_types.ts";

const why = netnsUnavailable() ?? (haveCommand("tcpdump") ? null : "tcpdump is not installed");
if (why !== null) console.log(`reload tests skipped: ${why}`);

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const VIP_A = "10.77.0.51";
const VIP_B = "10.77.0.52";
const INTERVAL_S = 0.1;
/**
 * The longest gap allowed between the master's adverts around a reload: three intervals, under
 * the backup's master-down interval (3 x 100 ms + its skew, 361 ms), so it never takes over. A
 * reload that blocked the VRRP thread (0.8 s before the loader thread) fails it; a busy machine
 * that gives the thread no CPU for two intervals does not (224 ms seen once in a full run).
 */
const MAX_GAP_S = 3 * INTERVAL_S;

function yaml(router: string, prioA: number | string, prioB: number | null): string {
  const b = prioB === null ? "" : `  VI_B:
    interface: eth0
    vrid: 52
    priority: ${prioB}
    advert_interval: 100ms
    virtual_ipaddresses: [${VIP_B}/24]
`;
  return `global:
  router_id: ${router}
  vrrp_version: 3
vrrp_instances:
  VI_A:
    interface: eth0
    vrid: 51
    priority: ${prioA}
    advert_interval: 100ms
    virtual_ipaddresses: [${VIP_A}/24]
${b}`;
}

/** Runs the haagent CLI on the host (the control socket is a path, seen from every netns). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `${ROOT}main.ts`, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

function inst(st: AgentStatus | null, name: string): InstanceStatus {
  const i = st?.instances.find((x) => x.name === name);
  if (i === undefined) throw new Error(`no instance ${name} in ${JSON.stringify(st)}`);
  return i;
}

async function waitInst(lab: VrrpLab, a: Agent, name: string, state: string, ms: number) {
  try {
    await waitFor(
      async () => (await lab.status(a))?.instances.find((i) => i.name === name)?.state === state,
      ms,
    );
  } catch {
    throw new Error(`${a.router} ${name} did not reach ${state}\n${a.log.slice(-40).join("\n")}`);
  }
}

/** `ip -ts monitor address` in a namespace, collecting lines. */
function monitor(lab: VrrpLab, router: string): { lines: string[]; proc: LabProcess } {
  const proc = lab.lab.spawn(router, ["ip", "-ts", "monitor", "address"], { stdout: "piped" });
  const lines: string[] = [];
  (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.child.stdout) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
  })().catch(() => {});
  return { lines, proc };
}

function deletedLines(lines: string[], vip: string): string[] {
  return lines.filter((l) => l.includes("Deleted") && l.includes(` ${vip}/`));
}

/** Largest gap (s) between consecutive adverts of `src` for `vrid`, and the priority-0 count. */
function advertGaps(adverts: CapturedAdvert[], src: string, vrid: number) {
  const mine = adverts.filter((a) => a.src === src && a.vrid === vrid).sort((x, y) => x.t - y.t);
  let maxGap = 0;
  for (let i = 1; i < mine.length; i++) maxGap = Math.max(maxGap, mine[i]!.t - mine[i - 1]!.t);
  return { count: mine.length, maxGap, prio0: mine.filter((a) => a.priority === 0).length };
}

/** The counts of a successful reload's message. */
function counts(kept: number, prio: number, restarted: number, added: number, removed: number) {
  return new RegExp(
    `^reloaded \\S+: ${kept} instance\\(s\\) unchanged, ${prio} with a new priority, ` +
      `${restarted} restarted, ${added} added, ${removed} removed`,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  name: "reload: unchanged file, refused file, changed priority; SIGHUP and haagent reload",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("rl");
    const r1 = lab.startHaagent("r1", yaml("r1", 150, 150));
    const file = `${lab.dir}/r1.yaml`;
    await Promise.all([
      waitInst(lab, r1, "VI_A", "MASTER", 10_000),
      waitInst(lab, r1, "VI_B", "MASTER", 10_000),
    ]);
    const r2 = lab.startHaagent("r2", yaml("r2", 120, 100));
    await Promise.all([
      waitInst(lab, r2, "VI_A", "BACKUP", 10_000),
      waitInst(lab, r2, "VI_B", "BACKUP", 10_000),
    ]);
    await lab.waitVip("r1", VIP_A, 5000);
    await lab.waitVip("r1", VIP_B, 5000);
    const mon = monitor(lab, "r1");
    await sleep(500);
    const before = await lab.status(r1);
    const sinceA = inst(before, "VI_A").since, sinceB = inst(before, "VI_B").since;
    assertEquals(before?.reloads, 0);

    // (a, d) The same file again, by SIGHUP and by `haagent reload`: nothing moves.
    for (const how of ["SIGHUP", "haagent reload"] as const) {
      const n = (await lab.status(r1))!.reloads;
      const cap = await lab.capture();
      await sleep(500);
      if (how === "SIGHUP") {
        const pid = (await Deno.readTextFile(`${lab.dir}/r1.pid`)).trim();
        await lab.lab.exec(null, ["kill", "-HUP", pid]);
      } else {
        const r = await cli("reload", "--control", r1.control!);
        assertEquals(r.code, 0, `${r.stdout}${r.stderr}`);
        assertMatch(r.stdout, counts(2, 0, 0, 0, 0));
      }
      await waitFor(async () => (await lab.status(r1))?.reloads === n + 1, 10_000);
      await sleep(700);
      const adverts = await cap.stop();
      const st = await lab.status(r1);
      assertEquals(st?.lastReload?.ok, true, how);
      assertMatch(st!.lastReload!.message, counts(2, 0, 0, 0, 0));
      for (const [name, since, vrid] of [["VI_A", sinceA, 51], ["VI_B", sinceB, 52]] as const) {
        assertEquals(inst(st, name).state, "MASTER", `${how}: ${name}`);
        assertEquals(inst(st, name).since, since, `${how}: ${name} since changed`);
        const g = advertGaps(adverts, ROUTERS.r1.addr4, vrid);
        console.log(
          `${how}: vrid ${vrid}: ${g.count} adverts, max gap ${(g.maxGap * 1000).toFixed(0)} ms`,
        );
        assert(g.count >= 8, `${how}: only ${g.count} adverts for vrid ${vrid}`);
        assertEquals(g.prio0, 0, `${how}: priority-0 adverts for vrid ${vrid}`);
        assert(g.maxGap <= MAX_GAP_S, `${how}: vrid ${vrid} advert gap ${g.maxGap} s`);
      }
      assert(r1.log.some((l) => l.includes(`reloaded ${file}: 2 instance(s) unchanged`)), how);
    }
    assertEquals(mon.lines.filter((l) => l.includes("Deleted")), [], "addresses removed");
    assert(await lab.hasVip("r1", VIP_A) && await lab.hasVip("r1", VIP_B));

    // (b) A file that fails validation is refused by both ways; nothing changes.
    const good = await Deno.readTextFile(file);
    await Deno.writeTextFile(file, good.replace("priority: 150", "priority: 999"));
    const badLine = good.split("\n").findIndex((l) => l.includes("priority: 150")) + 1;
    let r = await cli("reload", "--control", r1.control!);
    assertEquals(r.code, 1, `${r.stdout}${r.stderr}`);
    assertMatch(r.stderr, /reload refused: 1 error\(s\) in .*the running configuration goes on/);
    await waitFor(
      () => r1.log.some((l) => l.includes(`${file}:${badLine}:15: vrrp_instances.VI_A.priority:`)),
      3000,
    )
      .catch(() => {
        throw new Error(
          `no ${file}:${badLine}:15 error in the log:\n${r1.log.slice(-20).join("\n")}`,
        );
      });
    await Deno.writeTextFile(file, "vrrp_instances: [\n  garbage: {{{\n");
    const nLog = r1.log.length;
    r1.proc.kill("SIGHUP");
    await waitFor(() => r1.log.slice(nLog).some((l) => l.includes("reload refused")), 5000);
    assert(
      r1.log.slice(nLog).some((l) => l.includes(`${file}:`) && /:\d+:\d+: YAML syntax/.test(l)),
      `no file:line YAML error logged:\n${r1.log.slice(nLog).join("\n")}`,
    );
    await sleep(500);
    let st = await lab.status(r1);
    assert(st !== null, "the agent stopped answering after a refused reload");
    assertEquals(st.lastReload?.ok, false);
    assertEquals(st.reloads, 2, "refused reloads are not counted as reloads");
    for (const [name, since] of [["VI_A", sinceA], ["VI_B", sinceB]] as const) {
      assertEquals(inst(st, name).state, "MASTER");
      assertEquals(inst(st, name).since, since);
      assertEquals(inst(st, name).priority, 150);
    }
    assert(await lab.hasVip("r1", VIP_A) && await lab.hasVip("r1", VIP_B));
    assertEquals(mon.lines.filter((l) => l.includes("Deleted")), []);
    r = await cli("status", "--control", r1.control!);
    assertEquals(r.code, 0);
    assertMatch(r.stdout, /last reload .*: REFUSED reload refused/);

    // (c) VI_A's priority drops below r2's: r2 preempts VI_A; VI_B stays on r1 untouched.
    await Deno.writeTextFile(file, yaml("r1", 100, 150));
    const cap = await lab.capture();
    await sleep(500);
    r = await cli("reload", "--control", r1.control!);
    assertEquals(r.code, 0, `${r.stdout}${r.stderr}`);
    assertMatch(r.stdout, counts(1, 1, 0, 0, 0));
    assert(r1.log.some((l) => l.includes("instance VI_A: priority 150 -> 100")), "no log line");
    await lab.waitVip("r2", VIP_A, 5000);
    await lab.waitVip("r1", VIP_A, 5000, false);
    await waitInst(lab, r2, "VI_A", "MASTER", 5000);
    await waitInst(lab, r1, "VI_A", "BACKUP", 5000);
    await sleep(700);
    const adverts = await cap.stop();
    st = await lab.status(r1);
    assertEquals(inst(st, "VI_A").priority, 100);
    assertEquals(inst(st, "VI_B").state, "MASTER");
    assertEquals(inst(st, "VI_B").since, sinceB, "VI_B was restarted");
    assertEquals(inst(await lab.status(r2), "VI_B").state, "BACKUP");
    assert(await lab.hasVip("r1", VIP_B), "r1 lost VI_B's VIP");
    assert(!(await lab.hasVip("r2", VIP_B)), "r2 took VI_B's VIP");
    const gB = advertGaps(adverts, ROUTERS.r1.addr4, 52);
    console.log(`priority change: vrid 52 max gap ${(gB.maxGap * 1000).toFixed(0)} ms`);
    assertEquals(gB.prio0, 0);
    assert(gB.maxGap <= MAX_GAP_S, `vrid 52 advert gap ${gB.maxGap} s`);
    const gA = advertGaps(adverts, ROUTERS.r2.addr4, 51);
    assert(gA.count > 3, "r2 does not advertise VI_A");
    // The monitor does see deletions (VI_A's VIP left r1), and none of VI_B's.
    await waitFor(() => deletedLines(mon.lines, VIP_A).length > 0, 3000).catch(() => {
      throw new Error(`ip monitor saw no deletion of ${VIP_A}:\n${mon.lines.join("\n")}`);
    });
    assertEquals(deletedLines(mon.lines, VIP_B), [], "VI_B's VIP was removed");

    // (e) VI_B removed from the file: r1 lets it go and r2 takes it; VI_A is not touched.
    const sinceA2 = inst(st, "VI_A").since;
    await Deno.writeTextFile(file, yaml("r1", 100, null));
    r = await cli("reload", "--control", r1.control!);
    assertEquals(r.code, 0, `${r.stdout}${r.stderr}`);
    assertMatch(r.stdout, counts(1, 0, 0, 0, 1));
    await lab.waitVip("r1", VIP_B, 5000, false);
    await lab.waitVip("r2", VIP_B, 5000);
    await waitInst(lab, r2, "VI_B", "MASTER", 5000);
    st = await lab.status(r1);
    assertEquals(st?.instances.map((i) => i.name), ["VI_A"]);
    assertEquals(inst(st, "VI_A").since, sinceA2, "VI_A was restarted");
    // ... and added back at 150: r1 preempts it again.
    await Deno.writeTextFile(file, yaml("r1", 100, 150));
    r = await cli("reload", "--control", r1.control!);
    assertEquals(r.code, 0, `${r.stdout}${r.stderr}`);
    assertMatch(r.stdout, counts(1, 0, 0, 1, 0));
    await waitInst(lab, r1, "VI_B", "MASTER", 5000);
    await lab.waitVip("r1", VIP_B, 5000);
    await lab.waitVip("r2", VIP_B, 5000, false);
    st = await lab.status(r1);
    assertEquals(inst(st, "VI_A").since, sinceA2, "VI_A was restarted");
    assertEquals(st?.reloads, 5);

    // (f) New notify hooks and smtp_alert on VI_B: applied in place, VI_B not restarted.
    const sinceB2 = inst(st, "VI_B").since;
    await Deno.writeTextFile(
      file,
      yaml("r1", 100, 150) + "    notify: /bin/true\n    smtp_alert: false\n",
    );
    r = await cli("reload", "--control", r1.control!);
    assertEquals(r.code, 0, `${r.stdout}${r.stderr}`);
    assertMatch(r.stdout, counts(2, 0, 0, 0, 0));
    assert(r1.log.some((l) => l.includes("instance VI_B: new notify / smtp_alert settings")));
    st = await lab.status(r1);
    assertEquals(inst(st, "VI_B").since, sinceB2, "VI_B was restarted for new hooks");
    assertEquals(inst(st, "VI_B").state, "MASTER");

    // Both agents still run and stop cleanly.
    assertEquals(await lab.stop(r1), 0);
    assertEquals(await lab.stop(r2), 0);
    mon.proc.kill("SIGTERM");
  },
});
