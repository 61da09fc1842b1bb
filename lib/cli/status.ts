/**
 * `haagent status` (table, `--json`, or keepalived-style `--dump` / `--stats`), `haagent
 * reload` and `haagent stop`, through the control socket.
 *
 * @module
 */
import { renderDump, renderStats } from "../agent/dump.ts";
import { controlRequest, ControlUnreachable } from "../runtime/control.ts";
import type { AgentStatus } from "../agent/status_types.ts";
import { parseFlags, str } from "./args.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_UNREACHABLE, UsageError } from "./exit.ts";
import type { Command } from "./main.ts";
import { DEFAULT_CONTROL } from "./run.ts";

/** `haagent status`. */
export const statusCommand: Command = {
  name: "status",
  summary: "show the running agent's state",
  usage: "haagent status [--control PATH] [--json | --dump | --stats]",
  async run(args) {
    const p = parseFlags(args, {
      control: { type: "string" },
      json: { type: "boolean" },
      dump: { type: "boolean" },
      stats: { type: "boolean" },
    });
    if (p.values.help) {
      console.log(
        `usage: ${this.usage}\n\n--dump prints the state dump (what SIGUSR1 writes to ` +
          `haagent.data), --stats the statistics (SIGUSR2, haagent.stats).\n` +
          `Default control socket: ${DEFAULT_CONTROL}. Exit 3 when no agent answers.`,
      );
      return EXIT_OK;
    }
    if ([p.values.json, p.values.dump, p.values.stats].filter(Boolean).length > 1) {
      throw new UsageError("--json, --dump and --stats are exclusive");
    }
    const path = str(p, "control") ?? DEFAULT_CONTROL;
    let st: AgentStatus;
    try {
      st = await controlRequest(path, { cmd: "status" }) as AgentStatus;
    } catch (e) {
      console.error(`haagent status: ${(e as Error).message}`);
      return e instanceof ControlUnreachable ? EXIT_UNREACHABLE : EXIT_FAILURE;
    }
    if (p.values.json) console.log(JSON.stringify(st, null, 2));
    else if (p.values.dump) await writeOut(renderDump(st, new Date()));
    else if (p.values.stats) await writeOut(renderStats(st, new Date()));
    else console.log(renderStatus(st));
    return EXIT_OK;
  },
};

/** `haagent reload`. */
export const reloadCommand: Command = {
  name: "reload",
  summary: "make the agent re-read its configuration",
  usage: "haagent reload [--control PATH]",
  async run(args) {
    const p = parseFlags(args, { control: { type: "string" } });
    if (p.values.help) {
      console.log(
        `usage: ${this.usage}\n\nSame as SIGHUP; prints the outcome. Exit 1 when ` +
          `the new file was refused (the old configuration goes on).`,
      );
      return EXIT_OK;
    }
    const path = str(p, "control") ?? DEFAULT_CONTROL;
    try {
      const r = await controlRequest(path, { cmd: "reload" }, 30_000) as {
        ok: boolean;
        message: string;
      };
      (r.ok ? console.log : console.error)(r.message);
      return r.ok ? EXIT_OK : EXIT_FAILURE;
    } catch (e) {
      console.error(`haagent reload: ${(e as Error).message}`);
      return e instanceof ControlUnreachable ? EXIT_UNREACHABLE : EXIT_FAILURE;
    }
  },
};

/** How long `haagent stop` waits for the agent to be gone. */
const STOP_WAIT_MS = 30_000;

/** `haagent stop`. */
export const stopCommand: Command = {
  name: "stop",
  summary: "stop the running agent (as SIGTERM), keeping or removing its IPVS rules",
  usage: "haagent stop [--control PATH] [--keep-ipvs | --remove-ipvs]",
  async run(args) {
    const p = parseFlags(args, {
      control: { type: "string" },
      "keep-ipvs": { type: "boolean" },
      "remove-ipvs": { type: "boolean" },
    });
    if (p.values.help) {
      console.log(
        `usage: ${this.usage}\n\nStops the agent as SIGTERM does and waits until it is gone. ` +
          `--keep-ipvs leaves the IPVS services it programmed (and the sync daemon) in place ` +
          `for a restart in place: the next agent reconciles them without a gap. ` +
          `--remove-ipvs removes them. Without either, global.ipvs_on_stop decides ` +
          `(default remove). Exit 3 when no agent answers.`,
      );
      return EXIT_OK;
    }
    if (p.values["keep-ipvs"] && p.values["remove-ipvs"]) {
      throw new UsageError("--keep-ipvs and --remove-ipvs are exclusive");
    }
    const path = str(p, "control") ?? DEFAULT_CONTROL;
    const ipvs = p.values["keep-ipvs"] ? "keep" : p.values["remove-ipvs"] ? "remove" : undefined;
    try {
      await controlRequest(path, { cmd: "stop", ...(ipvs ? { ipvs } : {}) });
    } catch (e) {
      console.error(`haagent stop: ${(e as Error).message}`);
      return e instanceof ControlUnreachable ? EXIT_UNREACHABLE : EXIT_FAILURE;
    }
    const end = Date.now() + STOP_WAIT_MS;
    for (;;) {
      try {
        await controlRequest(path, { cmd: "status" }, 2000);
      } catch (e) {
        if (e instanceof ControlUnreachable) break;
      }
      if (Date.now() > end) {
        console.error(`haagent stop: the agent still answers after ${STOP_WAIT_MS / 1000} s`);
        return EXIT_FAILURE;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`stopped${ipvs ? ` (IPVS rules: ${ipvs})` : ""}`);
    return EXIT_OK;
  },
};

async function writeOut(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

/** Renders a status as text tables. */
function renderStatus(st: AgentStatus): string {
  const out: string[] = [];
  out.push(
    `haagent ${st.version} pid ${st.pid} router_id ${st.routerId} up ${st.uptimeS}s ` +
      `config ${st.configFile} reloads ${st.reloads}`,
  );
  if (st.lastReload) {
    out.push(
      `last reload ${st.lastReload.at}: ${st.lastReload.ok ? "ok" : "REFUSED"} ` +
        st.lastReload.message,
    );
  }
  if (st.instances.length > 0) {
    out.push("");
    out.push(table([
      ["INSTANCE", "IFACE", "VRID", "VER", "STATE", "PRIO", "MASTER", "VIPS", "SINCE", "REASON"],
      ...st.instances.map((i) => [
        i.name,
        i.interface,
        String(i.vrid),
        `v${i.version}`,
        i.state,
        i.effectivePriority === i.priority
          ? String(i.priority)
          : `${i.effectivePriority}/${i.priority}`,
        i.masterAddress ?? "-",
        i.vips.join(","),
        i.since,
        i.faults.length > 0 ? i.faults.join("; ") : i.reason,
      ]),
    ]));
  }
  for (const g of st.syncGroups) {
    out.push(`sync group ${g.name}: ${g.state} (${g.members.join(", ")})`);
  }
  out.push("");
  out.push(
    st.ipvs.available
      ? `IPVS: available, ${st.ipvs.services} service(s), last pass ${st.ipvs.lastOps} op(s), ` +
        `${st.ipvs.errors} error(s)`
      : `IPVS: unavailable (${st.ipvs.reason})`,
  );
  if (st.ipvs.syncDaemon !== null) out.push(`IPVS sync daemon: ${st.ipvs.syncDaemon}`);
  for (const vs of st.virtualServers) {
    out.push(`virtual server ${vs.name}${vs.quorumUp ? "" : " (QUORUM DOWN)"}`);
    if (vs.realServers.length === 0) continue;
    out.push(table([
      ["  REAL SERVER", "STATE", "WEIGHT", "REASON"],
      ...vs.realServers.map((r) => [
        `  ${r.address}`,
        r.up ? "UP" : "DOWN",
        String(r.weight),
        r.reason,
      ]),
    ]));
  }
  if (st.announce !== null && st.announce !== undefined) {
    const a = st.announce;
    out.push("");
    out.push(`announce: table ${a.table}, protocol ${a.protocol}`);
    if (a.routes.length > 0) {
      out.push(table([
        ["  ROUTE", "DEV", "STATE", "WHY"],
        ...a.routes.map((r) => [
          `  ${r.prefix}`,
          r.device,
          r.announced ? "announced" : r.error !== null ? "FAILED" : "withdrawn",
          r.error !== null ? `${r.error} (${r.reasons.join("; ")})` : r.reasons.join("; "),
        ]),
      ]));
    }
  }
  if (st.tracked.length > 0) {
    out.push("");
    out.push(table([
      ["TRACKED", "NAME", "STATE", "LAST"],
      ...st.tracked.map((t) => [t.kind, t.name, t.up ? "up" : "down", t.detail]),
    ]));
  }
  if (st.mail !== null) {
    out.push(
      `mail alerts: ${st.mail.sent} sent, ${st.mail.failed} failed, ${st.mail.dropped} dropped`,
    );
  }
  const drops = Object.entries(st.drops).filter(([, n]) => n > 0);
  if (drops.length > 0) {
    out.push("");
    out.push(`dropped adverts: ${drops.map(([k, n]) => `${k}=${n}`).join(" ")}`);
  }
  return out.join("\n");
}
