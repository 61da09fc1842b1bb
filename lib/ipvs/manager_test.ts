import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { Reactor } from "../../ffi/reactor.ts";
import { AttributeEncoder } from "../netlink/attrs.ts";
import { FakeNetlink } from "../netlink/fake.ts";
import { decodeGenl, GENL_ID_CTRL, genlHeader } from "../netlink/genl.ts";
import type { NlMessage } from "../netlink/message.ts";
import { Logger } from "../runtime/log.ts";
import { decodeDest, decodeService, IpvsCmd } from "./codec.ts";
import { IpvsManager } from "./manager.ts";
import {
  type DesiredService,
  type Destination,
  destinationName,
  type ServiceKey,
  serviceName,
} from "./types.ts";

const IPVS_ID = 32;
const ENOENT = 2;
const EEXIST = 17;

function genlMsg(type: number, cmd: number, attrs: Uint8Array): NlMessage {
  const payload = new Uint8Array(4 + attrs.length);
  payload.set(genlHeader(cmd, 1));
  payload.set(attrs, 4);
  return { type, flags: 0, seq: 0, pid: 0, payload };
}

/** A fake IPVS kernel: keeps services in a map, answers as the real one does. */
class FakeIpvs {
  readonly services = new Map<string, { attrs: Uint8Array; dests: Map<string, Uint8Array> }>();
  readonly commands: number[] = [];
  hasIpvs = true;

  handle = (req: NlMessage): NlMessage[] | SyscallError => {
    if (req.type === GENL_ID_CTRL) {
      if (!this.hasIpvs) return new SyscallError("genl", ENOENT, "family");
      const a = new AttributeEncoder().u16(1, IPVS_ID).string(2, "IPVS").u32(3, 1).u32(4, 0)
        .finish();
      return [genlMsg(GENL_ID_CTRL, 1, a)];
    }
    const g = decodeGenl(req);
    assert(g.ok);
    const { cmd, attrs } = g.value;
    this.commands.push(cmd);
    const svc = decodeService(attrs);
    const name = svc.ok ? serviceName(svc.value.key) : "";
    const entry = this.services.get(name);
    switch (cmd) {
      case IpvsCmd.GET_SERVICE:
        return [...this.services.values()].map((s) =>
          genlMsg(IPVS_ID, IpvsCmd.NEW_SERVICE, s.attrs)
        );
      case IpvsCmd.GET_DEST:
        if (entry === undefined) return new SyscallError("genl", ENOENT, "svc");
        return [...entry.dests.values()].map((d) => genlMsg(IPVS_ID, IpvsCmd.NEW_DEST, d));
      case IpvsCmd.NEW_SERVICE:
        if (entry !== undefined) return new SyscallError("genl", EEXIST, "svc");
        this.services.set(name, { attrs, dests: new Map() });
        return [];
      case IpvsCmd.SET_SERVICE:
        if (entry === undefined) return new SyscallError("genl", ENOENT, "svc");
        entry.attrs = attrs;
        return [];
      case IpvsCmd.DEL_SERVICE:
        if (!this.services.delete(name)) return new SyscallError("genl", ENOENT, "svc");
        return [];
      case IpvsCmd.NEW_DEST:
      case IpvsCmd.SET_DEST:
      case IpvsCmd.DEL_DEST: {
        if (entry === undefined || !svc.ok) return new SyscallError("genl", ENOENT, "svc");
        const d = decodeDest(attrs, svc.value.key.family);
        assert(d.ok);
        const dn = destinationName(d.value);
        const has = entry.dests.has(dn);
        if (cmd === IpvsCmd.NEW_DEST && has) return new SyscallError("genl", EEXIST, "dest");
        if (cmd !== IpvsCmd.NEW_DEST && !has) return new SyscallError("genl", ENOENT, "dest");
        if (cmd === IpvsCmd.DEL_DEST) entry.dests.delete(dn);
        else entry.dests.set(dn, attrs);
        return [];
      }
      case IpvsCmd.FLUSH:
        this.services.clear();
        return [];
    }
    return new SyscallError("genl", 95, "cmd");
  };
}

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = new Logger("test", { level: "debug", sink: (l) => lines.push(l), json: false });
  return { log, lines };
}

const web: ServiceKey = { family: "ipv4", protocol: "tcp", address: "10.0.0.50", port: 80 };
const v6: ServiceKey = { family: "ipv6", protocol: "udp", address: "2001:db8::50", port: 53 };

function dest(address: string, weight = 1): Destination {
  return { address, port: 80, forwarding: "nat", weight, upperThreshold: 0, lowerThreshold: 0 };
}

function svc(key: ServiceKey, dests: Destination[]): DesiredService {
  return {
    key,
    scheduler: "wlc",
    flags: {},
    timeoutS: 0,
    netmask: key.family === "ipv4" ? "255.255.255.255" : "128",
    destinations: dests,
  };
}

async function open(kernel: FakeIpvs): Promise<{ m: IpvsManager; lines: string[] }> {
  const { log, lines } = capture();
  const m = await IpvsManager.withConn(new FakeNetlink(kernel.handle), log);
  assert(m instanceof IpvsManager);
  return { m, lines };
}

Deno.test("manager: without the IPVS family, open reports it unavailable", async () => {
  const kernel = new FakeIpvs();
  kernel.hasIpvs = false;
  const r = await IpvsManager.withConn(new FakeNetlink(kernel.handle), capture().log);
  assertEquals(r, {
    unavailable:
      'IPVS is not available in this kernel (generic netlink family "IPVS" not found: ENOENT)',
  });
});

Deno.test("manager: reconcile from empty, then a second pass sends nothing", async () => {
  const kernel = new FakeIpvs();
  const { m } = await open(kernel);
  const want = [svc(web, [dest("10.0.0.11"), dest("10.0.0.12")]), svc(v6, [dest("2001:db8::11")])];
  const first = await m.reconcile(want);
  assertEquals(first.ops.length, 5);
  assertEquals(first.errors, []);
  assertEquals(kernel.services.size, 2);
  const dumped = await m.dump();
  assertEquals(dumped.map((s) => serviceName(s.key)), [
    "TCP 10.0.0.50:80",
    "UDP [2001:db8::50]:53",
  ]);
  assertEquals(dumped[0]!.destinations.map(destinationName), ["10.0.0.11:80", "10.0.0.12:80"]);
  const before = kernel.commands.length;
  const second = await m.reconcile(want);
  assertEquals(second.ops, []);
  const sent = kernel.commands.slice(before);
  assert(sent.every((c) => c === IpvsCmd.GET_SERVICE || c === IpvsCmd.GET_DEST), "only dumps");
  m[Symbol.dispose]();
});

Deno.test("manager: foreign services stay; services it programmed are removed when dropped", async () => {
  const kernel = new FakeIpvs();
  const { m: other } = await open(kernel);
  await other.reconcile([svc(v6, [])]);
  const { m } = await open(kernel);
  await m.reconcile([svc(web, [dest("10.0.0.11")])]);
  assertEquals(kernel.services.size, 2);
  const r = await m.reconcile([]);
  assertEquals(r.ops, [{ op: "delete-service", key: web }]);
  assertEquals([...kernel.services.keys()], ["UDP [2001:db8::50]:53"]);
  const again = await m.reconcile([], { owned: () => true });
  assertEquals(again.ops.length, 1);
  assertEquals(kernel.services.size, 0);
});

Deno.test("manager: kernel errors are logged naming service and destination, not thrown", async () => {
  const kernel = new FakeIpvs();
  const { m, lines } = await open(kernel);
  const errors = await m.apply([
    { op: "add-dest", key: web, dest: dest("10.0.0.11") },
    { op: "add-service", service: svc(web, []) },
    { op: "add-service", service: svc(web, []) },
    { op: "delete-dest", key: web, dest: dest("10.0.0.99") },
  ]);
  assertEquals(errors.map((e) => (e.error as SyscallError).code), ["ENOENT", "EEXIST", "ENOENT"]);
  assertEquals(lines.length, 3);
  assertMatch(lines[0]!, /add-dest TCP 10\.0\.0\.50:80 -> 10\.0\.0\.11:80 failed: ENOENT/);
  assertMatch(lines[1]!, /add-service TCP 10\.0\.0\.50:80 failed: EEXIST/);
  assertMatch(lines[2]!, /delete-dest TCP 10\.0\.0\.50:80 -> 10\.0\.0\.99:80 failed: ENOENT/);
});

Deno.test("manager: a hand-made change is put back; flush empties", async () => {
  const kernel = new FakeIpvs();
  const { m } = await open(kernel);
  const want = [svc(web, [dest("10.0.0.11", 5), dest("10.0.0.12")])];
  await m.reconcile(want);
  kernel.services.get("TCP 10.0.0.50:80")!.dests.delete("10.0.0.12:80");
  const r = await m.reconcile([svc(web, [dest("10.0.0.11", 7), dest("10.0.0.12")])]);
  assertEquals(r.ops.map((o) => o.op), ["edit-dest", "add-dest"]);
  await m.flush();
  assertEquals(kernel.services.size, 0);
});

Deno.test({
  name: "manager: on a kernel without IPVS, open answers { unavailable } quickly",
  ignore: (() => {
    try {
      Deno.statSync("/proc/net/ip_vs");
      return true;
    } catch {
      return false;
    }
  })(),
  fn: async () => {
    const reactor = new Reactor();
    const running = reactor.run();
    const t0 = performance.now();
    const r = await IpvsManager.open(reactor, capture().log);
    const ms = performance.now() - t0;
    reactor.close();
    await running;
    assertEquals(r, {
      unavailable:
        'IPVS is not available in this kernel (generic netlink family "IPVS" not found: ENOENT)',
    });
    assert(ms < 2000, `took ${ms} ms`);
  },
});
