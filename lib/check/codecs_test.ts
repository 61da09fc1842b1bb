import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { decodeMessage, DNS_TYPES, encodeQuery, encodeResponse } from "./dns_codec.ts";
import { fileOutcome, parseTrackValue } from "./file.ts";
import { decodeIcmp, encodeEcho } from "./icmp.ts";
import { miscOutcome } from "./misc.ts";
import { parseSmtpReply } from "./smtp.ts";
import { replyLengthOk } from "./udp.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("dns: query encoding matches RFC 1035 layout", () => {
  const q = encodeQuery(0x1234, "example.com.", DNS_TYPES.A);
  assertEquals(
    [...q],
    [
      0x12,
      0x34,
      1,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      7,
      ...enc("example"),
      3,
      ...enc("com"),
      0,
      0,
      1,
      0,
      1,
    ],
  );
  assertEquals([...encodeQuery(1, ".", DNS_TYPES.SOA).subarray(12)], [0, 0, 6, 0, 1]);
});

Deno.test("dns: response round trip with a compressed answer name", () => {
  const q = decodeMessage(encodeQuery(77, "www.example.org", DNS_TYPES.AAAA));
  assert(q.ok);
  assertEquals(q.value.questions, [{ name: "www.example.org", type: 28, class: 1 }]);
  const resp = encodeResponse(q.value, 0, [{ type: 28, ttl: 60, rdata: new Uint8Array(16) }]);
  const r = decodeMessage(resp);
  assert(r.ok);
  assertEquals(r.value.id, 77);
  assertEquals(r.value.qr, true);
  assertEquals(r.value.rcode, 0);
  assertEquals(r.value.answers.length, 1);
  assertEquals(r.value.answers[0]!.name, "www.example.org");
  assertEquals(r.value.answers[0]!.ttl, 60);
  const nx = decodeMessage(encodeResponse(q.value, 3, []));
  assert(nx.ok);
  assertEquals(nx.value.rcode, 3);
});

Deno.test("dns: hostile responses are reasons, never exceptions", () => {
  assertEquals(decodeMessage(new Uint8Array(5)).ok, false);
  // A name pointer pointing at itself.
  const loop = new Uint8Array([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  assertEquals(decodeMessage(loop), { ok: false, reason: "name pointer loop" });
  const q = decodeMessage(encodeQuery(9, "a.b", 1));
  assert(q.ok);
  const good = encodeResponse(q.value, 0, [{ type: 1, ttl: 1, rdata: new Uint8Array(4) }]);
  for (let cut = 0; cut < good.length; cut++) decodeMessage(good.subarray(0, cut));
  for (let i = 0; i < 2000; i++) {
    const m = good.slice();
    m[(i * 7) % m.length] = (i * 31) & 0xff;
    decodeMessage(m);
  }
});

Deno.test("smtp: single and multi-line replies", () => {
  assertEquals(parseSmtpReply(enc("220 mx ready\r\n")), {
    state: "done",
    code: 220,
    text: "mx ready",
    consumed: 14,
  });
  const multi = parseSmtpReply(enc("250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\nextra"));
  assert(multi.state === "done");
  assertEquals(multi.code, 250);
  assertEquals(parseSmtpReply(enc("250-mx\r\n250 x")).state, "need-more");
  assertEquals(parseSmtpReply(enc("garbage\r\n")).state, "error");
  assertEquals(parseSmtpReply(new Uint8Array(5000).fill(65)).state, "error");
});

Deno.test("misc: keepalived's exit status rule", () => {
  assertEquals(miscOutcome(0, false, "x"), { ok: true, detail: "x exited 0" });
  assertEquals(miscOutcome(1, true, "x").ok, false);
  assertEquals(miscOutcome(2, false, "x").ok, false);
  assertEquals(miscOutcome(2, true, "x"), { ok: true, detail: "x exited 2", weight: 0 });
  assertEquals(miscOutcome(255, true, "x"), { ok: true, detail: "x exited 255", weight: 253 });
});

Deno.test("file: track value parsing and weights", () => {
  assertEquals(parseTrackValue(" 12\n"), 12);
  assertEquals(parseTrackValue("-3"), -3);
  assertEquals(parseTrackValue("abc"), 0);
  assertEquals(parseTrackValue(""), 0);
  // strtol(buf, NULL, 0), as keepalived reads it.
  assertEquals(parseTrackValue("0x1f junk"), 31);
  assertEquals(parseTrackValue("\t-010\n"), -8);
  assertEquals(parseTrackValue("09"), 0);
  assertEquals(parseTrackValue("+7"), 7);
  assertEquals(parseTrackValue("2147483648"), 2147483648);
  assertEquals(parseTrackValue("2147483649"), null);
  assertEquals(parseTrackValue("-2147483649"), null);
  assertEquals(fileOutcome(5, 2, "/f"), { ok: true, detail: "/f reads 5", weight: 10 });
  assertEquals(fileOutcome(0, 1, "/f").ok, false);
  assertEquals(fileOutcome(-1, 1, "/f").ok, false);
  assertEquals(fileOutcome(0, 0, "/f").ok, true);
  assertEquals(fileOutcome(7, 0, "/f").ok, false);
});

Deno.test("icmp: echo encoding and error decoding", () => {
  const e = encodeEcho("ipv4", 0xabcd, 7, enc("hi"));
  assertEquals([...e.subarray(0, 2)], [8, 0]);
  assertEquals(decodeIcmp("ipv4", new Uint8Array([0, 0, 0, 0, 0xab, 0xcd, 0, 7])), {
    kind: "echo-reply",
    id: 0xabcd,
    seq: 7,
  });
  const unreach = new Uint8Array(8 + 20 + 8);
  unreach[0] = 3;
  unreach[1] = 3;
  unreach[8] = 0x45;
  unreach[8 + 9] = 17;
  unreach.set([10, 0, 0, 2], 8 + 16);
  unreach.set([0x30, 0x39, 0, 53], 28);
  assertEquals(decodeIcmp("ipv4", unreach), {
    kind: "unreachable",
    what: "port unreachable",
    dst: "10.0.0.2",
    protocol: 17,
    srcPort: 12345,
    dstPort: 53,
  });
  assertEquals(decodeIcmp("ipv4", unreach.subarray(0, 20)), { kind: "other" });
  assertEquals(decodeIcmp("ipv6", new Uint8Array([129, 0, 0, 0, 0, 1, 0, 2])).kind, "echo-reply");
});

Deno.test("udp: reply length bounds", () => {
  assert(replyLengthOk(5, 0, 0));
  assert(!replyLengthOk(5, 6, 0));
  assert(!replyLengthOk(50, 0, 10));
});
