/**
 * What packaging/haagent.service allows, tried without systemd (not PID 1 here): the agent in a
 * namespace, root with only the unit's capabilities (setpriv --bounding-set, no inheritable,
 * no_new_privs) and a read-only file system but for its runtime directory (a private mount
 * namespace with `/` remounted read-only, as ProtectSystem=strict with RuntimeDirectory=).
 * With CAP_NET_ADMIN and CAP_NET_RAW alone it elects, installs its VIP, reloads, writes its
 * dumps and stops cleanly; realtime_priority without CAP_SYS_NICE is a warning. Scripts run as
 * script_user need CAP_SETUID and CAP_SETGID (the README's drop-in), and CAP_KILL so that an
 * overrunning one can be killed.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, readLines, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";
import { controlRequest } from "../../lib/runtime/control.ts";
import type { AgentStatus } from "../../lib/agent/status_types.ts";

const why = netnsUnavailable() ??
  (haveCommand("setpriv") && haveCommand("unshare") ? null : "setpriv / unshare missing");
if (why !== null) console.log(`sandbox tests skipped: ${why}`);

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const UNIT_CAPS = ["net_admin", "net_raw"];

/** The agent on r1 inside the emulated sandbox; `run` is its only writable directory. */
function startSandboxed(lab: VrrpLab, config: string, caps: string[]) {
  const run = `${lab.dir}/run`;
  Deno.mkdirSync(run, { mode: 0o750 });
  Deno.writeTextFileSync(`${lab.dir}/sb.yaml`, config);
  const script = `set -e
mount --bind "$RUN" "$RUN"
mount -o remount,bind,ro /
exec setpriv --bounding-set=-all,${caps.map((c) => `+${c}`).join(",")} --inh-caps=-all \\
  --no-new-privs -- "$@"`;
  const p = lab.lab.spawn("r1", [
    "env",
    `RUN=${run}`,
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    script,
    "sh",
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    "--cached-only",
    MAIN,
    "--config",
    `${lab.dir}/sb.yaml`,
    "--control",
    `${run}/haagent.sock`,
    "--pid-file",
    `${run}/haagent.pid`,
    "--dump-dir",
    run,
  ], { stderr: "piped" });
  const log: string[] = [];
  void readLines(p.child.stderr, log);
  const status = async () => {
    try {
      return await controlRequest(`${run}/haagent.sock`, { cmd: "status" }, 2000) as AgentStatus;
    } catch {
      return null;
    }
  };
  const waitLog = async (re: RegExp, ms = 20_000) => {
    try {
      await waitFor(() => log.some((l) => re.test(l)), ms);
    } catch {
      throw new Error(`no log line ${re} within ${ms} ms:\n${log.join("\n")}`);
    }
    return log.find((l) => re.test(l))!;
  };
  return { p, run, log, status, waitLog };
}

/** CapEff and NoNewPrivs of a process. */
function privileges(pid: number): { capEff: bigint; noNewPrivs: string } {
  const s = Deno.readTextFileSync(`/proc/${pid}/status`);
  return {
    capEff: BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(s)![1]}`),
    noNewPrivs: /NoNewPrivs:\s+(\d)/.exec(s)![1]!,
  };
}

const CAP_BIT = { net_admin: 12n, net_raw: 13n, setgid: 6n, setuid: 7n, kill: 5n } as const;

function yaml(extra = "", global = ""): string {
  return `global:
  router_id: r1
  vrrp_version: 3
${global}vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.50/24]
${extra}`;
}

Deno.test({
  name: "sandbox: CAP_NET_ADMIN + CAP_NET_RAW and a read-only system are enough to run",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("sbx");
    const a = startSandboxed(lab, yaml("", "  realtime_priority: 50\n"), UNIT_CAPS);
    await waitFor(async () => (await a.status())?.instances[0]?.state === "MASTER", 20_000);
    assert(await lab.hasVip("r1", "10.77.0.50"), "VIP not installed");
    const priv = privileges(a.p.pid);
    assertEquals(priv.capEff, (1n << CAP_BIT.net_admin) | (1n << CAP_BIT.net_raw));
    assertEquals(priv.noNewPrivs, "1");
    // SCHED_RR needs CAP_SYS_NICE: a warning, and the agent goes on.
    await a.waitLog(/running with the normal scheduler/);
    // The file system really is read-only outside the runtime directory.
    const probe = await lab.lab.tryExec("r1", [
      "nsenter",
      "-t",
      String(a.p.pid),
      "-m",
      "sh",
      "-c",
      `touch ${lab.dir}/x`,
    ]);
    assert(probe.code !== 0 && /Read-only/.test(probe.stderr), probe.stderr);
    // Reload, dumps, clean stop.
    a.p.kill("SIGHUP");
    await a.waitLog(/reloaded .*sb\.yaml/);
    a.p.kill("SIGUSR1");
    a.p.kill("SIGUSR2");
    await a.waitLog(/statistics written to/);
    await a.waitLog(/state dump written to/);
    assertMatch(await Deno.readTextFile(`${a.run}/haagent.data`), /VRRP Instance = VI_1/);
    assert((await Deno.stat(`${a.run}/haagent.stats`)).isFile);
    a.p.kill("SIGTERM");
    assertEquals((await a.p.child.status).code, 0);
    assert(!(await lab.hasVip("r1", "10.77.0.50")), "VIP left after stop");
    assertEquals([...Deno.readDirSync(a.run)].map((e) => e.name).sort(), [
      "haagent.data",
      "haagent.stats",
    ]);
  },
});

Deno.test({
  name: "sandbox: scripts as script_user need CAP_SETUID, CAP_SETGID, and CAP_KILL to be killed",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // notify_master runs as nobody and writes its uid; a tracked script overruns its 1 s
    // timeout (`sleep` with a tag to find it).
    const config = (tag: string, out: string) =>
      yaml(
        `    notify_master: "/bin/sh -c 'id -u > ${out}/who'"
    track_scripts: [{ name: slow, weight: -10 }]
scripts:
  slow:
    command: "sleep 7${tag}"
    interval: 2s
    timeout: 1s
`,
        "  script_user: nobody\n",
      );
    const sleeping = async (tag: string) =>
      (await new Deno.Command("pgrep", { args: ["-f", `sleep 7${tag}$`], stdout: "piped" })
        .output()).stdout.length > 0;
    for (
      const [name, caps, wantWho, wantKilled] of [
        ["unit caps only", UNIT_CAPS, false, false],
        ["+setuid +setgid", [...UNIT_CAPS, "setuid", "setgid"], true, false],
        ["+setuid +setgid +kill", [...UNIT_CAPS, "setuid", "setgid", "kill"], true, true],
      ] as const
    ) {
      await using lab = await VrrpLab.create("sbs");
      const out = `${lab.dir}/run/out`;
      const tag = String(Math.floor(Math.random() * 1e6)).padStart(6, "0");
      const a = startSandboxed(lab, config(tag, out), [...caps]);
      // nobody must reach it: the lab's directories are traversable, `out` writable.
      Deno.chmodSync(lab.dir, 0o711);
      Deno.chmodSync(a.run, 0o711);
      Deno.mkdirSync(out);
      Deno.chmodSync(out, 0o777);
      await waitFor(async () => (await a.status())?.instances[0]?.state === "MASTER", 20_000);
      // The tracked script starts at once; 1 s timeout, then 2 s of kill grace at most.
      await new Promise((r) => setTimeout(r, 4000));
      let who: string | null = null;
      try {
        who = (await Deno.readTextFile(`${out}/who`)).trim();
      } catch { /* the script did not run */ }
      const alive = await sleeping(tag);
      console.log(
        `${name}: notify_master wrote uid ${who ?? "nothing"}, overrun script ` +
          `${alive ? "still running after its timeout" : "not running"}`,
      );
      assertEquals(who, wantWho ? "65534" : null, `${name}\n${a.log.join("\n")}`);
      // Without setuid it never started; with it, it outlives its timeout unless CAP_KILL.
      assertEquals(alive, wantWho && !wantKilled, name);
      if (!wantWho) {
        assert(
          a.log.some((l) => /notify|script/.test(l) && /ERROR|WARN/.test(l)),
          a.log.join("\n"),
        );
      }
      a.p.kill("SIGTERM");
      await a.p.child.status;
      // (The lab's cleanup kills what is left in r1's namespace too.)
      await new Deno.Command("pkill", { args: ["-KILL", "-f", `sleep 7${tag}$`] }).output();
    }
  },
});
