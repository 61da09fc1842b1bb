import { assertEquals } from "../../tests/helpers/assert.ts";
import { formatSummary } from "./summary.ts";

Deno.test("summary: one line, states in a fixed order, zeros left out", () => {
  const base = { realServers: null, ipvsUnavailable: null, reloadRefused: false };
  assertEquals(
    formatSummary({
      ...base,
      states: new Map([["BACKUP", 1], ["MASTER", 3], ["FAULT", 0]]),
      realServers: { up: 12, total: 12 },
    }),
    "3 MASTER, 1 BACKUP, 12/12 real servers up",
  );
  assertEquals(formatSummary({ ...base, states: new Map() }), "no VRRP instances");
  assertEquals(
    formatSummary({
      states: new Map([["FAULT", 2], ["INIT", 1], ["MASTER", 1]]),
      realServers: { up: 3, total: 4 },
      ipvsUnavailable: "no IPVS in this kernel",
      reloadRefused: true,
    }),
    "1 MASTER, 2 FAULT, 1 INIT, 3/4 real servers up, IPVS unavailable (no IPVS in this kernel), " +
      "last reload refused",
  );
});
