/**
 * The pid file (issue 11 item 7), with the real agent in a namespace: on a full file system the
 * start is refused naming the file and no 0-byte pid file is left (the old one stays intact);
 * a pid file path that is a symbolic link is refused as keepalived refuses it (O_NOFOLLOW), its
 * target untouched.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, type Output } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";
import { selfCommand } from "../../lib/runtime/self.ts";

const why = netnsUnavailable() ?? (haveCommand("mount") ? null : "mount missing");
if (why !== null) console.log(`pid file tests skipped: ${why}`);
const ignore = why !== null;

const CONFIG = `global:
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 97
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.97/24]
`;

async function runAgent(lab: VrrpLab, pidFile: string): Promise<Output> {
  await Deno.writeTextFile(`${lab.dir}/p.yaml`, CONFIG);
  const p = lab.lab.spawn("r1", [
    ...selfCommand(),
    "--config",
    `${lab.dir}/p.yaml`,
    "--control",
    `${lab.dir}/p.sock`,
    "--pid-file",
    pidFile,
  ], { stdout: "piped", stderr: "piped" });
  const t = setTimeout(() => p.kill("SIGKILL"), 30_000);
  try {
    return await p.output();
  } finally {
    clearTimeout(t);
  }
}

Deno.test({
  name: "pid file: a full disk refuses the start and leaves no 0-byte pid file",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("pf");
    const full = `${lab.dir}/full`;
    await Deno.mkdir(full);
    await lab.lab.exec(null, ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", full]);
    try {
      await Deno.writeTextFile(`${full}/old.pid`, "999999\n");
      // Fill it: dd stops at ENOSPC.
      await lab.lab.tryExec(null, ["dd", "if=/dev/zero", `of=${full}/fill`, "bs=4k"]);
      for (const name of ["agent.pid", "old.pid"]) {
        const o = await runAgent(lab, `${full}/${name}`);
        assertEquals(o.code, 1, o.stderr);
        assert(
          o.stderr.includes(`Cannot write pid file ${full}/${name}: No space left on device`),
          o.stderr,
        );
      }
      const left = [...Deno.readDirSync(full)].map((e) => e.name).sort();
      assertEquals(left, ["fill", "old.pid"], "a pid file or a temporary was left");
      assertEquals(await Deno.readTextFile(`${full}/old.pid`), "999999\n");
    } finally {
      await lab.lab.tryExec(null, ["umount", full]);
    }
  },
});

Deno.test({
  name: "pid file: a symbolic link is refused as keepalived refuses it, the target untouched",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("ps");
    const target = `${lab.dir}/precious`;
    await Deno.writeTextFile(target, "do not overwrite\n");
    await Deno.symlink(target, `${lab.dir}/agent.pid`);
    const o = await runAgent(lab, `${lab.dir}/agent.pid`);
    assertEquals(o.code, 1, o.stderr);
    assert(o.stderr.includes(`pid file ${lab.dir}/agent.pid is a symbolic link`), o.stderr);
    assertEquals(await Deno.readTextFile(target), "do not overwrite\n");
    assert(!(await lab.hasVip("r1", "10.77.0.97")));
  },
});
