import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { loadConfigText } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import {
  aliveWeight,
  buildModels,
  desiredFor,
  expandRange,
  nextQuorum,
  replyPattern,
  type RsState,
  startQuorum,
} from "./lvs_model.ts";

function config(yaml: string): Config {
  const r = loadConfigText(yaml, "t.yaml");
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.config;
}

const BASE = `virtual_server_groups:
  web:
    - 10.0.0.50:80
    - { range: 10.0.0.60-62, port: 8080 }
    - { fwmark: 7 }
virtual_servers:
  - address: 10.0.0.50:80
    scheduler: wrr
    persistence_timeout: 300s
    persistence_granularity: 255.255.255.0
    quorum: 3
    hysteresis: 1
    sorry_server: 10.0.0.99:80
    real_servers:
      - { address: 10.0.0.11:80, weight: 2, checks: [{ type: TCP_CHECK }] }
      - { address: 10.0.0.12:80, weight: 2, inhibit_on_failure: true, checks: [{ type: TCP_CHECK }] }
  - group: web
    scheduler: sh
    scheduler_flags: [sh-port]
    forwarding: DR
    real_servers:
      - { address: 10.0.0.21:80 }
`;

Deno.test("lvs model: groups expand to every service key; settings map to IPVS", () => {
  const models = buildModels(config(BASE), "lb1");
  assertEquals(models.length, 2);
  const [a, g] = models as [typeof models[0], typeof models[0]];
  assertEquals(a.name, "TCP 10.0.0.50:80");
  assertEquals(a.service.scheduler, "wrr");
  assertEquals(a.service.timeoutS, 300);
  assertEquals(a.service.flags.persistent, true);
  assertEquals(a.service.netmask, "255.255.255.0");
  assertEquals(g.keys.length, 5);
  assertEquals(g.keys.filter((k) => "fwmark" in k).length, 1);
  assertEquals(g.service.flags.shPort, true);
  assertEquals(expandRange("10.0.0.254", "10.0.1.1"), [
    "10.0.0.254",
    "10.0.0.255",
    "10.0.1.0",
    "10.0.1.1",
  ]);
  assertEquals(expandRange("fd00::fe", "fd00::100").length, 3);
  assertEquals(expandRange("10.0.0.5", "fd00::1"), []);
});

Deno.test("lvs model: down servers are removed, or kept at weight 0 with inhibit_on_failure", () => {
  const [a] = buildModels(config(BASE), "lb1");
  const ids = a!.realServers.map((r) => r.id);
  const st = new Map<string, RsState>([
    [ids[0]!, { up: true, dynamicWeight: null }],
    [ids[1]!, { up: false, dynamicWeight: null }],
  ]);
  const d = desiredFor(a!, st, true);
  assertEquals(d[0]!.destinations.map((x) => [x.address, x.weight]), [["10.0.0.11", 2], [
    "10.0.0.12",
    0,
  ]]);
  st.set(ids[0]!, { up: false, dynamicWeight: null });
  const none = desiredFor(a!, st, false);
  assertEquals(none[0]!.destinations.map((x) => [x.address, x.weight]), [["10.0.0.12", 0], [
    "10.0.0.99",
    1,
  ]]);
  st.set(ids[0]!, { up: true, dynamicWeight: 7 });
  assertEquals(aliveWeight(a!, st), 7, "a dynamic weight replaces the configured one");
});

Deno.test("lvs model: quorum with hysteresis is lost below quorum-h and regained at quorum+h", () => {
  const [a] = buildModels(config(BASE), "lb1"); // quorum 3, hysteresis 1
  assert(nextQuorum(a!, 2, true), "2 >= 3-1 keeps quorum");
  assert(!nextQuorum(a!, 1, true), "1 < 2 loses it");
  assert(!nextQuorum(a!, 3, false), "3 < 3+1 does not regain it");
  assert(nextQuorum(a!, 4, false), "4 regains it");
});

Deno.test("lvs model: every check kind maps to a checker spec", () => {
  const c = config(`virtual_servers:
  - address: 10.0.0.50:443
    delay_loop: 3s
    real_servers:
      - address: 10.0.0.11:443
        checks:
          - { type: SSL_GET, urls: [{ path: /h, status_code: [200, "300-302"], digest: ABCDEF0123456789ABCDEF0123456789 }], enable_sni: true }
          - { type: MISC_CHECK, misc_path: "/bin/true x", misc_dynamic: true }
          - { type: UDP_CHECK, payload: "hex:0102ff", require_reply: true }
          - { type: DNS_CHECK, dns_type: AAAA, dns_name: example.com }
          - { type: FILE_CHECK, file: /run/w }
`);
  const [m] = buildModels(c, "lb1");
  const checks = m!.realServers[0]!.checks;
  assertEquals(checks.map((x) => x.type), [
    "SSL_GET",
    "MISC_CHECK",
    "UDP_CHECK",
    "DNS_CHECK",
    "FILE_CHECK",
  ]);
  const ssl = checks[0]!;
  assert(ssl.type === "SSL_GET");
  assertEquals(ssl.urls[0]!.statusCodes, [[200, 200], [300, 302]]);
  assertEquals(ssl.urls[0]!.digest, "abcdef0123456789abcdef0123456789");
  assertEquals(ssl.delayLoopMs, 3000);
  assertEquals(ssl.connectPort, 443);
  const udp = checks[2]!;
  assert(udp.type === "UDP_CHECK");
  assertEquals(udp.payload, new Uint8Array([1, 2, 255]));
  const file = checks[4]!;
  assert(file.type === "FILE_CHECK");
  assertEquals(file.delayLoopMs, 3000);
});

Deno.test("lvs model: quorum at start as keepalived's init_service_vs decides it", () => {
  const [a, g] = buildModels(config(BASE), "lb1"); // a: quorum 3, hysteresis 1, sorry server
  assertEquals(startQuorum(a!, 4), { up: true, notify: true }, "4 >= 3+1: up, quorum_up runs");
  assertEquals(startQuorum(a!, 3), { up: false, notify: true }, "3 < 3+1: down, sorry server in");
  // g: quorum 1, hysteresis 0, no sorry server.
  assertEquals(startQuorum(g!, 1), { up: true, notify: true });
  assertEquals(startQuorum(g!, 0), { up: false, notify: false }, "down without a sorry server");
});

Deno.test("lvs model: require_reply data as keepalived's read_hex_str, x for any nibble", () => {
  assertEquals(replyPattern(undefined), {});
  assertEquals(replyPattern("01 a2"), { replyData: Uint8Array.of(1, 0xa2), replyMask: null });
  assertEquals(replyPattern("0x xF"), {
    replyData: Uint8Array.of(0, 0x0f),
    replyMask: Uint8Array.of(0x0f, 0xf0),
  });
});
