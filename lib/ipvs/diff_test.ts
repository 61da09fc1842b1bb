import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { diff, type Op } from "./diff.ts";
import {
  type DesiredService,
  type Destination,
  destinationName,
  type ServiceKey,
  serviceName,
} from "./types.ts";

const web: ServiceKey = { family: "ipv4", protocol: "tcp", address: "10.0.0.50", port: 80 };
const mark: ServiceKey = { family: "ipv4", fwmark: 7 };
const v6: ServiceKey = { family: "ipv6", protocol: "udp", address: "2001:db8::50", port: 53 };

function dest(address: string, weight = 1, port = 80): Destination {
  return { address, port, forwarding: "nat", weight, upperThreshold: 0, lowerThreshold: 0 };
}

function svc(key: ServiceKey, dests: Destination[], scheduler = "rr"): DesiredService {
  return {
    key,
    scheduler,
    flags: {},
    timeoutS: 0,
    netmask: key.family === "ipv4" ? "255.255.255.255" : "128",
    destinations: dests,
  };
}

const all = () => true;
const none = () => false;

Deno.test("diff: from empty adds each service before its destinations, in order", () => {
  const want = [svc(web, [dest("10.0.0.11"), dest("10.0.0.12")]), svc(mark, [dest("10.0.0.13")])];
  const ops = diff(want, [], all);
  assertEquals(ops.map((o) => o.op), [
    "add-service",
    "add-dest",
    "add-dest",
    "add-service",
    "add-dest",
  ]);
  assertEquals(ops[1], { op: "add-dest", key: web, dest: dest("10.0.0.11") });
});

Deno.test("diff: equal state needs no operation; kernel-only fields are ignored", () => {
  const want = [svc(web, [dest("10.0.0.11")])];
  const have: DesiredService[] = [{
    ...svc(web, [{ ...dest("10.0.0.11"), activeConns: 3, stats: zeroStats(5) }]),
    flags: { hashed: true },
    stats: zeroStats(9),
  }];
  assertEquals(diff(want, have, all), []);
});

function zeroStats(conns: number) {
  return { conns, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
}

Deno.test("diff: a changed weight is one edit-dest; a changed scheduler one edit-service", () => {
  const want = [svc(web, [dest("10.0.0.11", 5)], "wlc")];
  const have = [svc(web, [dest("10.0.0.11", 1)], "rr")];
  assertEquals(diff(want, have, all).map((o) => o.op), ["edit-service", "edit-dest"]);
});

Deno.test("diff: destination deletes come before service deletes, then adds", () => {
  const want = [svc(web, [dest("10.0.0.12")]), svc(v6, [])];
  const have = [svc(mark, [dest("10.0.0.13")]), svc(web, [dest("10.0.0.11")])];
  const ops = diff(want, have, all);
  assertEquals(ops.map((o) => o.op), [
    "delete-dest",
    "delete-service",
    "add-dest",
    "add-service",
  ]);
});

Deno.test("diff: services not owned are left alone; owned ones are deleted", () => {
  const have = [svc(mark, [dest("10.0.0.13")]), svc(web, [])];
  assertEquals(diff([], have, none), []);
  const ops = diff([], have, (k) => serviceName(k) === "FWM 7");
  assertEquals(ops, [{ op: "delete-service", key: mark }]);
});

Deno.test("diff: IPv6 addresses compare canonically; local forwarding is accepted", () => {
  const want = [svc({ ...v6, address: "2001:DB8:0::50" }, [dest("2001:db8::11", 1, 53)])];
  const have = [
    svc(v6, [{ ...dest("2001:db8:0:0::11", 1, 53), forwarding: "local" }]),
  ];
  assertEquals(diff(want, have, all), []);
});

Deno.test("diff: sh-port and mh-port are the same kernel bit; persistence is compared", () => {
  const a = { ...svc(web, []), scheduler: "sh", flags: { shPort: true } };
  const b = { ...svc(web, []), scheduler: "sh", flags: { mhPort: true } };
  assertEquals(diff([a], [b], all), []);
  const p = { ...a, flags: { shPort: true, persistent: true }, timeoutS: 300 };
  assertEquals(diff([p], [b], all).map((o) => o.op), ["edit-service"]);
});

Deno.test("diff: tunnel settings matter only for tun destinations", () => {
  const t = { ...dest("10.0.0.11"), forwarding: "tun" as const };
  assertEquals(diff([svc(web, [t])], [svc(web, [{ ...t, tunnelType: "ipip" }])], all), []);
  const gue = { ...t, tunnelType: "gue" as const, tunnelPort: 6080 };
  assertEquals(diff([svc(web, [gue])], [svc(web, [t])], all).map((o) => o.op), ["edit-dest"]);
  const nat = { ...dest("10.0.0.11"), tunnelType: "gre" as const };
  assertEquals(diff([svc(web, [dest("10.0.0.11")])], [svc(web, [nat])], all), []);
});

/** A model kernel: applies ops the way IPVS does, failing on what IPVS would reject. */
function apply(state: DesiredService[], ops: Op[]): DesiredService[] {
  const s = state.map((x) => ({ ...x, destinations: [...x.destinations] }));
  const find = (k: ServiceKey) => s.findIndex((x) => serviceName(x.key) === serviceName(k));
  for (const op of ops) {
    switch (op.op) {
      case "add-service":
        assert(find(op.service.key) < 0, "EEXIST service");
        s.push({ ...op.service, destinations: [] });
        break;
      case "edit-service": {
        const i = find(op.service.key);
        assert(i >= 0, "ENOENT service");
        s[i] = { ...op.service, destinations: s[i]!.destinations };
        break;
      }
      case "delete-service": {
        const i = find(op.key);
        assert(i >= 0, "ENOENT service");
        s.splice(i, 1);
        break;
      }
      default: {
        const i = find(op.key);
        assert(i >= 0, "ENOENT service for dest");
        const ds = s[i]!.destinations;
        const j = ds.findIndex((d) => destinationName(d) === destinationName(op.dest));
        if (op.op === "add-dest") {
          assert(j < 0, "EEXIST dest");
          ds.push(op.dest);
        } else {
          assert(j >= 0, "ENOENT dest");
          if (op.op === "edit-dest") ds[j] = op.dest;
          else ds.splice(j, 1);
        }
      }
    }
  }
  return s;
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function randomState(r: () => number): DesiredService[] {
  const keys: ServiceKey[] = [web, mark, v6, { ...web, port: 443 }, { family: "ipv6", fwmark: 7 }];
  const out: DesiredService[] = [];
  for (const k of keys) {
    if (r() < 0.4) continue;
    const ds: Destination[] = [];
    for (let i = 11; i < 16; i++) {
      if (r() < 0.5) continue;
      const a = k.family === "ipv4" ? `10.0.0.${i}` : `2001:db8::${i}`;
      ds.push(dest(a, Math.floor(r() * 3)));
    }
    out.push(svc(k, ds, r() < 0.5 ? "rr" : "wlc"));
  }
  return out;
}

Deno.test("diff: property: applying the ops reaches the desired state, then nothing is left", () => {
  const r = rng(20240601);
  for (let i = 0; i < 500; i++) {
    const want = randomState(r);
    const have = randomState(r);
    const foreign = (k: ServiceKey) => serviceName(k) !== "TCP 10.0.0.50:443";
    const ops = diff(want, have, foreign);
    const after = apply(have, ops);
    assertEquals(diff(want, after, foreign), [], `round ${i}`);
    for (const s of after) {
      const name = serviceName(s.key);
      const wanted = want.some((w) => serviceName(w.key) === name);
      assert(wanted || !foreign(s.key), `round ${i}: ${name} should have been deleted`);
    }
    const deletes = ops.findLastIndex((o) => o.op.startsWith("delete"));
    const firstAdd = ops.findIndex((o) => !o.op.startsWith("delete"));
    assert(firstAdd < 0 || deletes < firstAdd, `round ${i}: deletes come first`);
  }
});
