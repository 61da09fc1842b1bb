import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { AttributeDecoder, AttributeEncoder } from "../netlink/attrs.ts";
import {
  decodeDaemon,
  encodeDelDaemon,
  encodeGetDaemons,
  encodeNewDaemon,
  IpvsCmd,
} from "./codec.ts";

/** The nested IPVS_CMD_ATTR_DAEMON (3) of a request as {type: hex bytes}. */
function daemonAttrs(attrs: Uint8Array): Record<number, string> {
  const out: Record<number, string> = {};
  const d = new AttributeDecoder(attrs);
  while (d.next()) {
    if ((d.type & 0x3fff) !== 3) continue;
    d.nested((n) => {
      while (n.next()) {
        out[n.type] = [...n.bytes()].map((b) => b.toString(16).padStart(2, "0")).join("");
      }
    });
  }
  return out;
}

Deno.test("ipvs daemon: NEW_DAEMON carries state, interface, sync id and the options", () => {
  const r = encodeNewDaemon({
    role: "master",
    interface: "eth1",
    syncId: 7,
    maxLen: 1400,
    group: "224.0.0.81",
    port: 8848,
    ttl: 2,
  });
  assertEquals(r.cmd, IpvsCmd.NEW_DAEMON);
  assertEquals(daemonAttrs(r.attrs), {
    1: "01000000", // IP_VS_STATE_MASTER
    2: "6574683100", // "eth1\0"
    3: "07000000",
    4: "7805", // 1400, host order
    5: "e0000051", // 224.0.0.81, network order
    7: "9022", // 8848, host order
    8: "02",
  });
  const b = encodeNewDaemon({ role: "backup", interface: "eth0", syncId: 0 });
  assertEquals(daemonAttrs(b.attrs), { 1: "02000000", 2: "6574683000", 3: "00000000" });
  assertThrows(() =>
    encodeNewDaemon({ role: "master", interface: "e", syncId: 1, group: "ff02::1" })
  );
});

Deno.test("ipvs daemon: DEL_DAEMON names the role; GET_DAEMON is a dump", () => {
  const d = encodeDelDaemon("backup");
  assertEquals([d.cmd, d.dump], [IpvsCmd.DEL_DAEMON, false]);
  assertEquals(daemonAttrs(d.attrs), { 1: "02000000" });
  assertEquals([encodeGetDaemons().cmd, encodeGetDaemons().dump], [IpvsCmd.GET_DAEMON, true]);
});

Deno.test("ipvs daemon: a GET_DAEMON reply decodes; a reply without state is refused", () => {
  const reply = new AttributeEncoder().nested(
    3,
    (e) => e.u32(1, 1).string(2, "eth1").u32(3, 9).u16(4, 1472),
  ).finish();
  assertEquals(decodeDaemon(reply), {
    ok: true,
    value: { role: "master", interface: "eth1", syncId: 9 },
  });
  const bad = new AttributeEncoder().nested(3, (e) => e.string(2, "eth1")).finish();
  assertEquals(decodeDaemon(bad).ok, false);
  assertEquals(decodeDaemon(new Uint8Array([1, 2])).ok, false);
});
