import { assert, assertEquals } from "../tests/helpers/assert.ts";
import {
  decodeSockaddrNl,
  encodeSockaddrNl,
  NETLINK_GENERIC,
  NETLINK_ROUTE,
  NetlinkSocket,
} from "./netlink.ts";

const RTM_GETLINK = 18;
const NLMSG_DONE = 3;

Deno.test("sockaddr_nl: 12 bytes, golden layout, round trip", () => {
  const b = encodeSockaddrNl(0x01020304, 0x11);
  assertEquals([...b], [16, 0, 0, 0, 4, 3, 2, 1, 0x11, 0, 0, 0]);
  assertEquals(decodeSockaddrNl(b), { pid: 0x01020304, groups: 0x11 });
  assertEquals(decodeSockaddrNl(b.subarray(0, 11)), null);
  assertEquals(decodeSockaddrNl(new Uint8Array(12)), null);
});

Deno.test("netlink socket: opens, gets a port id, reads nothing without blocking", () => {
  using s = NetlinkSocket.open(NETLINK_ROUTE, { groups: [1] });
  assert(s.fd > 2);
  assert(s.pid > 0, `pid ${s.pid}`);
  assertEquals(s.recv(), null);
  using g = NetlinkSocket.open(NETLINK_GENERIC);
  assert(g.pid > 0); // port ids are per protocol: both may equal the process id
});

Deno.test("netlink socket: a link dump answered by the kernel ends in NLMSG_DONE", async () => {
  using s = NetlinkSocket.open(NETLINK_ROUTE);
  const req = new Uint8Array(32);
  const v = new DataView(req.buffer);
  v.setUint32(0, 32, true);
  v.setUint16(4, RTM_GETLINK, true);
  v.setUint16(6, 0x301, true); // REQUEST | DUMP
  v.setUint32(8, 77, true);
  s.send(req, "link dump");
  let done = false;
  let links = 0;
  const end = Date.now() + 5000;
  while (!done && Date.now() < end) {
    const r = s.recv();
    if (r === null) {
      await new Promise((ok) => setTimeout(ok, 1));
      continue;
    }
    assert(r !== "overrun");
    const dv = new DataView(r.buffer, r.byteOffset, r.byteLength);
    for (let off = 0; off + 16 <= r.length;) {
      const len = dv.getUint32(off, true);
      const type = dv.getUint16(off + 4, true);
      assertEquals(dv.getUint32(off + 8, true), 77);
      if (type === NLMSG_DONE) done = true;
      else links++;
      off += (len + 3) & ~3;
    }
  }
  assert(done, "NLMSG_DONE seen");
  assert(links >= 1, "at least lo");
});

Deno.test("netlink socket: recvView reads in place what recv would copy", () => {
  using s = NetlinkSocket.open(NETLINK_ROUTE);
  // RTM_GETLINK dump: nlmsghdr + struct ifinfomsg (16 bytes).
  const req = new Uint8Array(32);
  const v = new DataView(req.buffer);
  v.setUint32(0, 32, true);
  v.setUint16(4, 18, true);
  v.setUint16(6, 0x301, true);
  v.setUint32(8, 7, true);
  s.send(req, "link dump");
  const first = s.recvView();
  assert(first instanceof Uint8Array);
  const len = first.length;
  assert(len >= 16);
  assertEquals(new DataView(first.buffer, first.byteOffset).getUint32(8, true), 7);
  const copy = first.slice();
  for (let r = s.recv(); r !== null; r = s.recv()) assert(r !== "overrun");
  assertEquals(copy.length, len);
});
