/**
 * Hostile input: a haagent master (r1) and a haagent backup (r2), each running a VRRPv2 instance
 * with PASS auth and a VRRPv3 instance, take 20,000 random and mutated VRRP packets from the
 * client's namespace (fixtures/vrrp_noise.ts). Nothing may change: both processes stay up, no
 * transition on either router (states and transition counters), the master keeps its VIPs and
 * the backup never holds one (polled all through), the drop counters grow by the reasons the
 * packets were built for, and drop logging stays rate-limited.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable } from "../helpers/netns.ts";
import { type Agent, VrrpLab } from "../helpers/vrrp_lab.ts";
import type { AgentStatus } from "../../lib/agent/status_types.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`vrrp hostile test skipped: ${why}`);

const FIXTURE = new URL("./fixtures/vrrp_noise.ts", import.meta.url).pathname;
const VIP2 = "10.77.0.50";
const VIP3 = "10.77.0.60";
const PACKETS = 20_000;
const PPS = 2000;

function yaml(router: string, priority: number): string {
  return `global:
  router_id: ${router}
vrrp_instances:
  V2:
    interface: eth0
    vrid: 51
    version: 2
    priority: ${priority}
    advert_interval: 1s
    authentication: { type: PASS, password: kabpass1 }
    virtual_ipaddresses: [${VIP2}/24]
  V3:
    interface: eth0
    vrid: 52
    version: 3
    priority: ${priority}
    advert_interval: 200ms
    virtual_ipaddresses: [${VIP3}/24]
`;
}

interface NoiseSummary {
  seed: number;
  sent: number;
  failed: number;
  byCategory: Record<string, number>;
  byReason: Record<string, number>;
  seconds: number;
}

/** Per-instance facts that must not move: state and transition counters. */
function stateOf(s: AgentStatus | null): string {
  if (s === null) return "no answer";
  return s.instances.map((i) =>
    `${i.name}=${i.state} became=${i.stats["becameMaster"]} released=${i.stats["releasedMaster"]}`
  ).join(", ");
}

function alive(a: Agent): boolean {
  try {
    Deno.kill(a.proc.pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

const dropLine = /drop|advert from/i;

Deno.test({
  name: "hostile: 20,000 random and mutated VRRP packets change no state and are counted",
  ignore: why !== null || !haveCommand("ip"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using vl = await VrrpLab.create("vh");
    const r1 = vl.startHaagent("r1", yaml("r1", 150));
    const r2 = vl.startHaagent("r2", yaml("r2", 100));
    await vl.waitVip("r1", VIP2, 20_000);
    await vl.waitVip("r1", VIP3, 20_000);
    await vl.waitState(r2, "BACKUP", 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    const b1 = await vl.status(r1), b2 = await vl.status(r2);
    assert(b1 !== null && b2 !== null, "both agents answer on the control socket");
    const before = [b1, b2];
    assertEquals(b1.instances.map((i) => i.state), ["MASTER", "MASTER"]);
    assertEquals(b2.instances.map((i) => i.state), ["BACKUP", "BACKUP"]);
    const logFrom = [r1.log.length, r2.log.length];

    const logFile = `${vl.dir}/noise.log`;
    const seed = Number(Deno.env.get("HAAGENT_NOISE_SEED") ?? Date.now() % 100_000);
    const gen = vl.lab.spawn("c", [
      Deno.execPath(),
      "run",
      "-A",
      FIXTURE,
      "--iface=eth0",
      "--src=10.77.0.100",
      `--count=${PACKETS}`,
      `--pps=${PPS}`,
      `--seed=${seed}`,
      "--v2=51:kabpass1:100:10.77.0.50",
      "--v3=52:20:10.77.0.60",
      `--log=${logFile}`,
    ], { stdout: "piped", stderr: "piped" });
    const out = gen.output();

    // Watch all through the noise: the first thing that goes wrong, with when it happened.
    const t0 = performance.now();
    const problems: string[] = [];
    let finished = false;
    out.then(() => (finished = true), () => (finished = true));
    while (!finished && problems.length === 0) {
      const at = ((performance.now() - t0) / 1000).toFixed(2);
      if (!alive(r1) || !alive(r2)) problems.push(`${at} s: an agent died`);
      else if (!(await vl.hasVip("r1", VIP2)) || !(await vl.hasVip("r1", VIP3))) {
        problems.push(`${at} s: r1 lost a VIP`);
      } else if ((await vl.hasVip("r2", VIP2)) || (await vl.hasVip("r2", VIP3))) {
        problems.push(`${at} s: r2 took a VIP`);
      } else {
        const now = [await vl.status(r1), await vl.status(r2)];
        for (const [k, s] of now.entries()) {
          if (stateOf(s) !== stateOf(before[k]!)) {
            problems.push(`${at} s: r${k + 1} ${stateOf(before[k]!)} -> ${stateOf(s)}`);
          }
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const o = await out;
    assertEquals(o.code, 0, `noise generator failed: ${o.stderr}`);
    const noise = JSON.parse(o.stdout) as NoiseSummary;
    // Let the routers drain and a few real adverts pass.
    await new Promise((r) => setTimeout(r, 1500));
    const after = [await vl.status(r1), await vl.status(r2)];

    if (problems.length > 0 || !alive(r1) || !alive(r2)) {
      const log = (await Deno.readTextFile(logFile)).split("\n");
      const at = Number(/^([\d.]+) s/.exec(problems[0] ?? "")?.[1] ?? noise.seconds);
      const seq = Math.round(at * PPS);
      const window = log.slice(Math.max(0, seq - 4 * PPS / 10), seq + PPS / 10);
      console.log(
        `seed ${seed}; packets sent around ${at} s (SEQ CATEGORY TTL REASON HEX):\n` +
          window.join("\n"),
      );
      console.log(
        `--- r1\n${r1.log.slice(-40).join("\n")}\n--- r2\n${r2.log.slice(-40).join("\n")}`,
      );
    }
    assertEquals(problems, [], `seed ${seed}`);
    assert(alive(r1) && alive(r2), "both agents still run");
    assert(after[0] !== null && after[1] !== null, "both agents still answer");
    for (const k of [0, 1]) assertEquals(stateOf(after[k]!), stateOf(before[k]!));
    assert(await vl.hasVip("r1", VIP2) && await vl.hasVip("r1", VIP3), "r1 keeps its VIPs");
    assert(!(await vl.hasVip("r2", VIP2)) && !(await vl.hasVip("r2", VIP3)), "r2 holds no VIP");

    assert(noise.sent >= PACKETS * 0.99, `sent ${noise.sent} of ${PACKETS}`);
    const cat = (c: string) => noise.byCategory[c] ?? 0;
    const expectGrowth: [string, number][] = [
      ["checksum", cat("bad-checksum")],
      ["auth", cat("wrong-password")],
      ["zero-count", cat("zero-count")],
      ["zero-interval", cat("zero-interval")],
      ["version", cat("wrong-version")],
      ["type", cat("wrong-type")],
      ["ttl", cat("ttl-64")],
      ["interval", cat("interval-mismatch")],
      ["unknown-vrid", cat("unknown-vrid") + cat("foreign-vrid")],
    ];
    const report: string[] = [];
    for (const [k, router] of ["r1", "r2"].entries()) {
      const b = before[k]!.drops, a = after[k]!.drops;
      const grew = (r: string) => (a[r] ?? 0) - (b[r] ?? 0);
      const total = Object.keys(a).reduce((s, r) => s + grew(r), 0);
      report.push(
        `${router}: ${total} drops counted for ${noise.sent} packets; by reason ` +
          Object.keys(a).filter((r) => grew(r) > 0).map((r) =>
            `${r} +${grew(r)} (predicted ${noise.byReason[r] ?? 0})`
          ).join(", "),
      );
      for (const [reason, sent] of expectGrowth) {
        assert(sent > 0, `the generator sent packets for ${reason}`);
        assert(
          grew(reason) >= sent * 0.5,
          `${router}: drops[${reason}] grew by ${grew(reason)} for ${sent} such packets`,
        );
      }
      assert(total >= noise.sent * 0.5, `${router}: ${total} drops for ${noise.sent} packets`);
      // The v2 instance counted the auth failures, the v3 one did not.
      const v2 = (i: number) => after[k]!.instances[i]!.drops["auth"] ?? 0;
      assert(v2(0) > 0 && v2(1) === 0, `${router}: auth drops on V2 ${v2(0)}, on V3 ${v2(1)}`);
    }
    console.log(`  seed ${seed}, ${noise.sent} packets in ${noise.seconds.toFixed(1)} s`);
    for (const line of report) console.log(`  ${line}`);

    // Drop logging is rate-limited: per instance and reason, at most 5 lines per 10 s window
    // (lib/vrrp/runner.ts), so never more than 10 in any sliding 10 s; and few in all.
    for (const [k, a] of [r1, r2].entries()) {
      const lines = a.log.slice(logFrom[k]).filter((l) => dropLine.test(l));
      const byKey = new Map<string, number[]>();
      for (const l of lines) {
        const m =
          /^(\S+) \S+\s+vrrp (\S+): .*?(?:: ([a-z-]+)(?: \(|$)|(not a unicast peer|other addresses))/
            .exec(l);
        const key = m ? `${m[2]} ${m[3] ?? m[4]}` : l;
        byKey.set(key, [...(byKey.get(key) ?? []), m ? Date.parse(m[1]!) : 0]);
      }
      for (const [key, times] of byKey) {
        for (let i = 0; i + 10 < times.length; i++) {
          assert(
            times[i + 10]! - times[i]! >= 9_900,
            `r${k + 1}: 11 lines for "${key}" within 10 s:\n${lines.join("\n")}`,
          );
        }
      }
      console.log(
        `  r${k + 1}: ${lines.length} log lines about drops (${byKey.size} instance/reason keys)`,
      );
      assert(
        lines.length < noise.sent / 50,
        `r${k + 1} logged ${lines.length} drop lines for ${noise.sent} packets`,
      );
    }
  },
});
