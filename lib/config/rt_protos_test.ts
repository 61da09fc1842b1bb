import { assertEquals } from "../../tests/helpers/assert.ts";
import { BUILTIN_RESERVED, parseRtProtos, readReservedProtocols } from "./rt_protos.ts";

Deno.test("rt_protos: numbers and names, comments, hex, bad lines, our own name", () => {
  const m = parseRtProtos(
    "#\n# Reserved protocols.\n#\n0\tunspec\n12 bird # comment\n0xba\tbgp\n" +
      "nonsense\n300 toolarge\n248 haagent\n99\topenr\n",
  );
  assertEquals(m.get(12), "bird");
  assertEquals(m.get(186), "bgp");
  assertEquals(m.get(99), "openr");
  assertEquals(m.has(248), false, "an entry named haagent names our protocol");
  assertEquals(m.has(300), false);
  for (const n of [0, 1, 2, 3, 4]) assertEquals(m.has(n), true, `${n} always reserved`);
});

Deno.test("rt_protos: the built-in list matches Debian 12's file", () => {
  const debian = "0\tunspec\n1\tredirect\n2\tkernel\n3\tboot\n4\tstatic\n8\tgated\n9\tra\n" +
    "10\tmrt\n11\tzebra\n12\tbird\n13\tdnrouted\n14\txorp\n15\tntk\n16\tdhcp\n18\tkeepalived\n" +
    "42\tbabel\n99\topenr\n186\tbgp\n187\tisis\n188\tospf\n189\trip\n192\teigrp\n";
  const parsed = parseRtProtos(debian);
  for (const [n, name] of parsed) assertEquals(BUILTIN_RESERVED.get(n), name, `protocol ${n}`);
  assertEquals(BUILTIN_RESERVED.get(17), "mrouted", "the kernel also names 17");
});

Deno.test("rt_protos: the first readable file is the list, else the built-in one", () => {
  const f = Deno.makeTempFileSync();
  try {
    Deno.writeTextFileSync(f, "77\tmine\n");
    const r = readReservedProtocols(["/nonexistent/rt_protos", f]);
    assertEquals([r.source, r.numbers.get(77), r.numbers.get(12)], [f, "mine", undefined]);
    const none = readReservedProtocols(["/nonexistent/rt_protos"]);
    assertEquals([none.source, none.numbers.get(12)], ["the kernel's list", "bird"]);
  } finally {
    Deno.removeSync(f);
  }
});
