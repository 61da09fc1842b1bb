import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { desiredFromConfig, expandRange, quorumUp, type VirtualServerInput } from "./desired.ts";
import { serviceName } from "./types.ts";

const vs = (extra: Partial<VirtualServerInput> = {}): VirtualServerInput => ({
  address: "10.0.0.50:80",
  scheduler: "rr",
  realServers: [
    { address: "10.0.0.11:80", weight: 2 },
    { address: "10.0.0.12:80", weight: 3 },
  ],
  ...extra,
});

const weights = (out: ReturnType<typeof desiredFromConfig>) =>
  out.services[0]!.destinations.map((d) => `${d.address}=${d.weight}`);

Deno.test("desired: down servers are removed, or kept at weight 0 with inhibit_on_failure", () => {
  const alive = (_v: number, r: number) => r === 0;
  assertEquals(weights(desiredFromConfig({ virtualServers: [vs()], alive })), ["10.0.0.11=2"]);
  const inhibit = desiredFromConfig({ virtualServers: [vs({ inhibitOnFailure: true })], alive });
  assertEquals(weights(inhibit), ["10.0.0.11=2", "10.0.0.12=0"]);
});

Deno.test("desired: alpha starts servers down until their first check succeeds", () => {
  const unknown = () => undefined;
  assertEquals(weights(desiredFromConfig({ virtualServers: [vs()], alive: unknown })), [
    "10.0.0.11=2",
    "10.0.0.12=3",
  ]);
  assertEquals(
    weights(desiredFromConfig({ virtualServers: [vs({ alpha: true })], alive: unknown })),
    [],
  );
});

Deno.test("desired: the sorry server comes in when no real server is alive, and leaves", () => {
  const v = vs({ sorryServer: "10.0.0.99:80" });
  const none = desiredFromConfig({ virtualServers: [v], alive: () => false });
  assertEquals(weights(none), ["10.0.0.99=1"]);
  assertEquals(none.quorum, [false]);
  const one = desiredFromConfig({ virtualServers: [v], alive: (_v, r) => r === 1 });
  assertEquals(weights(one), ["10.0.0.12=3"]);
});

Deno.test("desired: quorum with hysteresis", () => {
  // quorum 4, hysteresis 1: up at >= 5, down below 3.
  assertEquals(quorumUp(4, 4, 1, undefined), true);
  assertEquals(quorumUp(3, 4, 1, true), true);
  assertEquals(quorumUp(2, 4, 1, true), false);
  assertEquals(quorumUp(4, 4, 1, false), false);
  assertEquals(quorumUp(5, 4, 1, false), true);
  const v = vs({ quorum: 4, hysteresis: 1, sorryServer: "10.0.0.99:80" });
  const out = desiredFromConfig({
    virtualServers: [v],
    alive: (_v, r) => r === 1,
    previousQuorum: () => true,
  });
  assertEquals(out.quorum, [true]);
  assertEquals(weights(out), ["10.0.0.12=3"]);
});

Deno.test("desired: groups expand addresses, ranges and fwmarks; omega removes on shutdown", () => {
  const groups = {
    web: ["10.0.0.50:80", { fwmark: 7 }, { range: "10.0.0.60-62", port: 80 }],
  };
  const g: VirtualServerInput = { group: "web", realServers: [{ address: "10.0.0.11" }] };
  const out = desiredFromConfig({ virtualServers: [g], groups, alive: () => true });
  assertEquals(out.services.map((s) => serviceName(s.key)), [
    "TCP 10.0.0.50:80",
    "FWM 7",
    "TCP 10.0.0.60:80",
    "TCP 10.0.0.61:80",
    "TCP 10.0.0.62:80",
  ]);
  assertEquals(out.services[0]!.destinations[0]!.port, 80, "port taken from the service");
  assertEquals(out.services[1]!.destinations[0]!.port, 0);
  assertEquals(expandRange("2001:db8::a-c"), ["2001:db8::a", "2001:db8::b", "2001:db8::c"]);
  assertThrows(() => expandRange("10.0.0.9-3"), RangeError);
  const stop = desiredFromConfig({
    virtualServers: [vs({ omega: true }), vs({ address: "10.0.0.51:80" })],
    alive: () => true,
    shuttingDown: true,
  });
  assertEquals(stop.services.map((s) => serviceName(s.key)), ["TCP 10.0.0.51:80"]);
});

Deno.test("desired: persistence, flags, forwarding and IPv6 keys", () => {
  const out = desiredFromConfig({
    virtualServers: [{
      address: "[2001:db8::50]:443",
      protocol: "SCTP",
      scheduler: "sh",
      schedulerFlags: ["sh-port"],
      forwarding: "TUN",
      tunnelType: "gue",
      persistenceTimeoutS: 300,
      ops: true,
      realServers: [{ address: "[2001:db8::11]:443", forwarding: "DR" }, {
        address: "[2001:db8::12]:443",
      }],
    }],
    alive: () => true,
  });
  const s = out.services[0]!;
  assertEquals(s.key, { family: "ipv6", protocol: "sctp", address: "2001:db8::50", port: 443 });
  assertEquals(s.flags, { persistent: true, onePacket: true, shPort: true });
  assertEquals(s.netmask, "128");
  assertEquals(s.destinations.map((d) => [d.forwarding, d.tunnelType]), [
    ["dr", undefined],
    ["tun", "gue"],
  ]);
});
