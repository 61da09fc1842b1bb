/**
 * A large load-balancer configuration (issue 11 item 1): one VRRP instance and `services`
 * virtual servers x `servers` real servers, written as keepalived.conf; haagent gets the same
 * file through `haagent import-keepalived`, so both agents run one configuration.
 *
 * @module
 */
import { selfCommand } from "../../lib/runtime/self.ts";

/** What to generate. */
export interface BigConfig {
  router: string;
  priority: number;
  vrid: number;
  /** VIP with prefix, e.g. "10.77.0.51/24". */
  vip: string;
  /** VRRP version (3 for the 100 ms advert interval). */
  version: 2 | 3;
  advertIntervalMs: number;
  services: number;
  servers: number;
  /** Changes every real server's weight (1 + variant % 5): a reload then has work to do. */
  variant: number;
}

/** keepalived.conf text for `c`. Services are 10.1xx.y.1:80, real servers 10.15x.y.z:80. */
export function bigKeepalivedConf(c: BigConfig): string {
  const out: string[] = [
    "global_defs {",
    `  router_id ${c.router}`,
    `  vrrp_version ${c.version}`,
    "}",
    "vrrp_instance VI_1 {",
    "  state BACKUP",
    "  interface eth0",
    `  virtual_router_id ${c.vrid}`,
    `  priority ${c.priority}`,
    `  advert_int ${c.advertIntervalMs / 1000}`,
    "  virtual_ipaddress {",
    `    ${c.vip}`,
    "  }",
    "}",
  ];
  const weight = 1 + (c.variant % 5);
  for (let i = 0; i < c.services; i++) {
    const hi = Math.floor(i / 250), lo = i % 250;
    out.push(
      `virtual_server 10.${100 + hi}.${lo}.1 80 {`,
      "  lb_algo rr",
      "  lb_kind NAT",
      "  protocol TCP",
    );
    for (let j = 0; j < c.servers; j++) {
      out.push(`  real_server 10.${150 + hi}.${lo}.${10 + j} 80 {`, `    weight ${weight}`, "  }");
    }
    out.push("}");
  }
  return out.join("\n") + "\n";
}

/** haagent YAML for the same configuration, converted by `haagent import-keepalived`. */
export async function bigHaagentYaml(c: BigConfig, dir: string): Promise<string> {
  const conf = `${dir}/big-${c.router}-${c.variant}.conf`;
  const out = `${dir}/big-${c.router}-${c.variant}.yaml`;
  await Deno.writeTextFile(conf, bigKeepalivedConf(c));
  const [cmd, ...args] = selfCommand();
  const r = await new Deno.Command(cmd!, {
    args: [...args, "import-keepalived", conf, "--out", out],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new Error(`import-keepalived failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  return await Deno.readTextFile(out);
}
