/**
 * packaging/haagent.service: `systemd-analyze verify` passes (with the binary's path
 * substituted, since systemd is not PID 1 here) and would catch a mistake; the unit has what
 * the service needs (Type=notify, watchdog, reload by SIGHUP, restart on failure, two
 * capabilities, a read-only system but for its runtime directory); and README.md's two install
 * lists (the compiled binary, a checkout) are followed line by line in a temporary root.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "./helpers/assert.ts";
import { haveCommand } from "./helpers/netns.ts";
import { DEFAULT_CONTROL, DEFAULT_DUMP_DIR, RUNTIME_DIR } from "../lib/cli/run.ts";
import { planFromConfig } from "../lib/agent/from_config.ts";
import { loadConfigFile } from "../lib/config/load.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const UNIT = `${ROOT}packaging/haagent.service`;
const BINARY = "/usr/local/bin/haagent";
const noAnalyze = !haveCommand("systemd-analyze");
if (noAnalyze) console.log("systemd-analyze is not installed: unit verification skipped");

async function sh(cmd: string, opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const o = await new Deno.Command("sh", {
    args: ["-c", cmd],
    cwd: opts.cwd ?? ROOT,
    stdout: "piped",
    stderr: "piped",
    ...(opts.env ? { env: opts.env } : {}),
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

/** `systemd-analyze verify FILE`: exit code and everything it printed (warnings included). */
async function verify(file: string) {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return await sh(`systemd-analyze verify ${q(file)}`);
}

/** The unit's settings: section -> key -> values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^\[(\w+)\]$/.exec(line);
    if (m) {
      section = m[1]!;
      out.set(section, new Map());
      continue;
    }
    const i = line.indexOf("=");
    const k = line.slice(0, i), v = line.slice(i + 1);
    const s = out.get(section)!;
    s.set(k, [...(s.get(k) ?? []), v]);
  }
  return out;
}

Deno.test("unit: the settings the service needs", async () => {
  const unit = parseUnit(await Deno.readTextFile(UNIT));
  const svc = unit.get("Service")!;
  const one = (k: string) => {
    const v = svc.get(k);
    assertEquals(v?.length, 1, `${k}: ${v}`);
    return v![0]!;
  };
  assertEquals(one("Type"), "notify");
  assertEquals(one("NotifyAccess"), "main");
  assertEquals(one("ExecStart"), `${BINARY} --config /etc/haagent/haagent.yaml`);
  assertEquals(one("ExecReload"), "/bin/kill -HUP $MAINPID");
  assertEquals(one("WatchdogSec"), "10s");
  assertEquals(one("Restart"), "on-failure");
  assertEquals(one("CapabilityBoundingSet"), "CAP_NET_ADMIN CAP_NET_RAW");
  assertEquals(svc.get("AmbientCapabilities"), undefined);
  assertEquals(svc.get("User"), undefined, "root, bounded by the capability set");
  assertEquals(one("NoNewPrivileges"), "yes");
  assertEquals(one("ProtectSystem"), "strict");
  assertEquals(one("PrivateTmp"), "yes");
  // Everything the agent writes by default is in its RuntimeDirectory.
  assertEquals(`/run/${one("RuntimeDirectory")}`, RUNTIME_DIR);
  const loaded = await loadConfigFile(`${ROOT}examples/minimal.yaml`);
  assert(loaded.ok);
  const plan = planFromConfig(loaded.config, {}, "host");
  for (const path of [DEFAULT_CONTROL, DEFAULT_DUMP_DIR, plan.control, plan.pidFile]) {
    assert(path.startsWith(`${RUNTIME_DIR}/`) || path === RUNTIME_DIR, path);
  }
  assertEquals(plan.control, DEFAULT_CONTROL);
  assertEquals(unit.get("Install")?.get("WantedBy"), ["multi-user.target"]);
});

Deno.test({
  name: "unit: systemd-analyze verify passes with the binary's path substituted, and can fail",
  ignore: noAnalyze,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "haagent-unit-" });
    try {
      const bin = `${dir}/haagent`;
      await Deno.writeTextFile(bin, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const text = (await Deno.readTextFile(UNIT)).replaceAll(BINARY, bin);
      await Deno.writeTextFile(`${dir}/haagent.service`, text);
      const ok = await verify(`${dir}/haagent.service`);
      assertEquals([ok.code, ok.out.trim()], [0, ""], "verify printed warnings or failed");
      // The same check catches a misspelt key, a bad value and a missing binary.
      for (
        const [name, bad] of [
          ["key", text.replace("WatchdogSec=", "WatchdogSecs=")],
          ["value", text.replace("Type=notify", "Type=notfy")],
          ["binary", text.replace(bin, `${dir}/absent`)],
        ]
      ) {
        await Deno.writeTextFile(`${dir}/bad-${name}.service`, bad!);
        const r = await verify(`${dir}/bad-${name}.service`);
        assert(r.code !== 0 || r.out.trim() !== "", `verify saw nothing wrong with the ${name}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** `systemd-analyze security --offline=true` exposure (0 safest .. 10), or NaN. */
async function exposure(file: string): Promise<number> {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const r = await sh(`systemd-analyze security --offline=true ${q(file)}`);
  return Number(/Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(r.out)?.[1] ?? NaN);
}

Deno.test({
  name: "unit: systemd-analyze security rates the sandbox (exposure at most 4.5 of 10)",
  ignore: noAnalyze,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "haagent-unit-" });
    try {
      const bin = `${dir}/haagent`;
      await Deno.writeTextFile(bin, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const text = (await Deno.readTextFile(UNIT)).replaceAll(BINARY, bin);
      await Deno.writeTextFile(`${dir}/haagent.service`, text);
      const ours = await exposure(`${dir}/haagent.service`);
      const ka = "/lib/systemd/system/keepalived.service";
      const theirs = await Deno.stat(ka).then(() => exposure(ka), () => NaN);
      console.log(`exposure: haagent.service ${ours}, Debian's keepalived.service ${theirs}`);
      assert(ours <= 4.5, `exposure ${ours}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The shell lines of README.md's block after `<!-- marker -->`. */
async function readmeSteps(marker: string): Promise<string[]> {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const at = readme.indexOf(`<!-- ${marker} -->`);
  assert(at >= 0, `README.md has no <!-- ${marker} --> block`);
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert(m !== null);
  return m[1]!.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter((l) => l !== "");
}

/**
 * Runs README install lines in `root`: absolute paths move under it, `haagent` is the installed
 * one, `systemd-analyze verify` runs on the installed unit with ExecStart pointing at the
 * installed binary, `systemctl` (systemd is not PID 1 here) is only checked to come last.
 */
async function followInstall(
  steps: string[],
  root: string,
  rewrite: (line: string) => string,
  env: Record<string, string>,
): Promise<string[]> {
  const ran: string[] = [];
  const systemctl = steps.filter((l) => l.startsWith("systemctl "));
  assertEquals(systemctl, ["systemctl daemon-reload", "systemctl enable --now haagent"]);
  assertEquals(steps.slice(-2), systemctl, "systemctl comes last");
  for (const step of steps.slice(0, -2)) {
    let line = rewrite(step)
      .replaceAll(" /usr/", ` ${root}/usr/`)
      .replaceAll(" /etc/", ` ${root}/etc/`)
      .replaceAll(" /opt/", ` ${root}/opt/`);
    if (line.startsWith("haagent ")) line = `${root}${BINARY}${line.slice("haagent".length)}`;
    if (line.startsWith("systemd-analyze verify ")) {
      if (noAnalyze) continue;
      const unit = `${root}/etc/systemd/system/haagent.service`;
      const text = await Deno.readTextFile(unit);
      assertEquals(text, await Deno.readTextFile(UNIT), "the installed unit is the repo's");
      await Deno.writeTextFile(unit, text.replaceAll(BINARY, `${root}${BINARY}`));
    }
    const r = await sh(line, { env });
    assertEquals(r.code, 0, `${step}\n(ran: ${line})\n${r.out}`);
    if (line.startsWith("systemd-analyze")) assertEquals(r.out.trim(), "", "verify warnings");
    ran.push(line);
  }
  const st = await Deno.stat(`${root}${BINARY}`);
  assertEquals(st.mode! & 0o777, 0o755);
  assertEquals((await Deno.stat(`${root}/etc/haagent/haagent.yaml`)).mode! & 0o777, 0o644);
  return ran;
}

Deno.test("README: installing the compiled binary, followed in a temporary root", async () => {
  const steps = await readmeSteps("install:binary");
  const root = await Deno.makeTempDir({ prefix: "haagent-root-" });
  try {
    // `deno compile` cannot run here (no denort, see ENVIRONMENT.md): a stand-in for
    // dist/haagent runs the same entry point.
    const dist = `${root}/build/dist`;
    await Deno.mkdir(dist, { recursive: true });
    await Deno.writeTextFile(
      `${dist}/haagent`,
      `#!/bin/sh\nexec ${Deno.execPath()} run -A --quiet ${ROOT}main.ts "$@"\n`,
      { mode: 0o755 },
    );
    const ran = await followInstall(
      steps,
      root,
      (l) => l.replaceAll(" dist/haagent", ` ${dist}/haagent`),
      {},
    );
    assert(ran.some((l) => l.includes(" check --config ")), "the file was checked");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "README: installing from a checkout, followed in a temporary root",
  ignore: !haveCommand("git"),
  fn: async () => {
    const steps = await readmeSteps("install:checkout");
    const root = await Deno.makeTempDir({ prefix: "haagent-root-" });
    try {
      // The checkout is cloned from this repository (its committed state).
      const ran = await followInstall(steps, root, (l) => l, {
        HAAGENT_REPO: ROOT,
        HAAGENT_HOME: `${root}/opt/haagent`,
      });
      assert(ran.some((l) => l.includes(" check --config ")), "the file was checked");
      assert((await Deno.stat(`${root}/opt/haagent/main.ts`)).isFile);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
