import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import { SyscallError } from "./errno.ts";
import { linkIndex, linkInfo, linkName } from "./ioctl.ts";
import { IFF_LOOPBACK } from "./structs.ts";

// Read-only questions about `lo`, which every namespace has; no traffic, no root needed.

Deno.test("ioctl: lo has an index, a name, flags and an MTU", () => {
  const i = linkIndex("lo");
  assert(i >= 1);
  assertEquals(linkName(i), "lo");
  const l = linkInfo("lo");
  assertEquals(l.index, i);
  assertEquals(l.name, "lo");
  assert((l.flags & IFF_LOOPBACK) !== 0);
  assertEquals(l.mac.byteLength, 0);
  assert(l.mtu >= 1280, `mtu ${l.mtu}`);
});

Deno.test("ioctl: unknown and invalid names", () => {
  const e = assertThrows(() => linkIndex("hz-no-such-if"), SyscallError) as SyscallError;
  assertEquals(e.code, "ENODEV");
  assertEquals(e.message, 'Unknown interface "hz-no-such-if": ENODEV (No such device)');
  assertThrows(() => linkIndex("sixteen-chars-xx"), RangeError, "sixteen-chars-xx");
  assertThrows(() => linkInfo(""), RangeError);
  assertEquals(linkName(0), null);
  assertEquals(linkName(-3), null);
  assertEquals(linkName(0x7ffffff0), null);
});
