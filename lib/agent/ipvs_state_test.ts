import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import {
  type IpvsState,
  ipvsStatePath,
  parseIpvsState,
  readIpvsState,
  writeIpvsState,
} from "./ipvs_state.ts";

const STATE: IpvsState = {
  version: 1,
  owned: ["TCP 10.0.0.50:80", "FWM 9 IPv4"],
  down: ['{"keys":[]}/10.0.0.11:80'],
  left: "kept",
};

Deno.test("ipvs state: beside the pid file", () => {
  assertEquals(ipvsStatePath("/run/haagent/haagent.pid"), "/run/haagent/haagent.ipvs.json");
  assertEquals(ipvsStatePath("/tmp/x/r1.pid"), "/tmp/x/r1.ipvs.json");
  assertEquals(ipvsStatePath("/run/agent"), "/run/agent.ipvs.json");
});

Deno.test("ipvs state: written whole (0600), read back; missing, bad and foreign files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/h.ipvs.json`;
    const warnings: string[] = [];
    assertEquals(await readIpvsState(path, (m) => warnings.push(m)), null);
    assertEquals(warnings, [], "no file is not worth a warning");
    await writeIpvsState(path, STATE);
    assertEquals(await readIpvsState(path, (m) => warnings.push(m)), STATE);
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["h.ipvs.json"]);
    await writeIpvsState(path, { ...STATE, owned: [], left: "removed" });
    assertEquals((await readIpvsState(path, () => {}))?.left, "removed");
    await Deno.writeTextFile(path, "{not json");
    assertEquals(await readIpvsState(path, (m) => warnings.push(m)), null);
    assertMatch(warnings.pop()!, /ignoring the IPVS state .*not JSON/);
    for (
      const bad of [{ ...STATE, version: 2 }, { ...STATE, owned: [1] }, { ...STATE, left: "x" }]
    ) {
      assert("bad" in parseIpvsState(JSON.stringify(bad)), JSON.stringify(bad));
    }
    // A symlink planted at the temporary name is replaced, never written through.
    const target = `${dir}/target`;
    await Deno.writeTextFile(target, "untouched");
    await Deno.symlink(target, `${path}.${Deno.pid}.tmp`);
    await writeIpvsState(path, STATE);
    assertEquals(await Deno.readTextFile(target), "untouched");
    assertEquals((await readIpvsState(path, () => {}))?.owned, STATE.owned);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
