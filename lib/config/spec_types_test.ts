import { loadConfigFile } from "./load.ts";
import { CONFIG, outName, type Spec } from "./schema.ts";
import type { Camel, OutKey } from "./spec_types.ts";
import type {
  CheckConfig,
  Config,
  GlobalConfig,
  RealServerConfig,
  VipConfig,
  VirtualServerConfig,
  VrrpInstanceConfig,
  VrrpScriptConfig,
} from "./types.ts";
import { assert, assertEquals } from "../../tests/helpers/assert.ts";

// ---- the computed types, checked by the compiler (deno check fails when one is wrong) ----------

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
const same = <A, B>(ok: Equal<A, B>) => ok;

same<Camel<"vrrp_mcast_group4">, "vrrpMcastGroup4">(true);
same<OutKey<"garp_master_delay", { kind: "duration" }>, "garpMasterDelayMs">(true);
same<OutKey<"virtual_ipaddresses", { kind: "list"; out: "vips" }>, "vips">(true);
same<GlobalConfig["garpMasterDelayMs"], number>(true);
same<GlobalConfig["logLevel"], "error" | "warn" | "info" | "debug">(true);
same<GlobalConfig["routerId"], string | undefined>(true);
same<VrrpInstanceConfig["state"], "BACKUP" | "MASTER">(true);
same<VrrpInstanceConfig["version"], 2 | 3>(true);
same<NonNullable<VrrpInstanceConfig["authentication"]>["type"], "PASS" | "AH">(true);
same<VipConfig["prefix"], number>(true);
same<VipConfig["device"], string>(true);
same<VipConfig["label"], string | undefined>(true);
same<VrrpScriptConfig["timeoutMs"], number>(true);
same<VirtualServerConfig["address"], string | undefined>(true);
same<VirtualServerConfig["port"], number>(true);
same<VirtualServerConfig["family"], "ipv4" | "ipv6">(true);
same<RealServerConfig["address"], string>(true);
same<RealServerConfig["forwarding"], "NAT" | "DR" | "TUN">(true);
same<
  CheckConfig["type"],
  Config["virtualServers"][number]["realServers"][number]["checks"][number]["type"]
>(
  true,
);
same<Extract<CheckConfig, { type: "TCP_CHECK" }>["connectIp"], string>(true);
same<Extract<CheckConfig, { type: "TCP_CHECK" }>["bindPort"], number | undefined>(true);
same<Extract<CheckConfig, { type: "MISC_CHECK" }>["miscTimeoutMs"], number>(true);
same<Extract<CheckConfig, { type: "FILE_CHECK" }>["weightMultiplier"], number>(true);
// @ts-expect-error a key the schema does not have is not in the Config
type _NoSuchKey = VrrpInstanceConfig["noSuchKey"];

// ---- the walker builds what the types say -----------------------------------------------------

/** Paths where a loaded value lacks a key its type says is always there. */
function missing(spec: Spec, value: unknown, path: string, out: string[]): void {
  if (value === undefined || value === null) return;
  switch (spec.kind) {
    case "object":
      for (const [key, s] of Object.entries(spec.fields)) {
        const v = value as Record<string, unknown>;
        const always = s.required === true || s.default !== undefined || s.filled === true;
        if (s.flatten === true) continue;
        const name = outName(key, s);
        if (always && v[name] === undefined) out.push(`${path}.${name}`);
        missing(s, v[name], `${path}.${name}`, out);
      }
      return;
    case "tagged": {
      const v = value as Record<string, unknown>;
      const fields = spec.variants[String(v[spec.tag])] ?? {};
      missing({ kind: "object", title: "", doc: "", fields }, value, path, out);
      return;
    }
    case "list":
      (value as unknown[]).forEach((x, i) => missing(spec.of, x, `${path}[${i}]`, out));
      return;
    case "map":
      for (const [k, x] of Object.entries(value as object)) {
        missing(spec.of, x, `${path}.${k}`, out);
      }
      return;
    default:
      return;
  }
}

for (
  const file of ["examples/ha.yaml", "examples/minimal.yaml", "tests/config/good/defaults.yaml"]
) {
  Deno.test(`Config types: every always-present key is present after loading ${file}`, async () => {
    const r = await loadConfigFile(new URL(`../../${file}`, import.meta.url).pathname);
    assert(r.ok, file);
    const out: string[] = [];
    // virtual_server_groups entries are reshaped by defaults.ts (VsGroupEntry), not walked as is.
    const fields = Object.fromEntries(
      Object.entries(CONFIG.fields).filter(([k]) => k !== "virtual_server_groups"),
    );
    missing({ kind: "object", title: "", doc: "", fields }, r.config, "", out);
    assertEquals(out, []);
  });
}
