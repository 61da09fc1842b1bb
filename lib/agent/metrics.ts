/**
 * Prometheus text exposition of the agent's status (`global.metrics.listen`), served at
 * `/metrics` over HTTP.
 *
 * @module
 */
import { serveText, type TextServer } from "../runtime/http_text.ts";
import type { AgentStatus } from "./status_types.ts";

const STATE_VALUE: Record<string, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3 };

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(l: Record<string, string | number>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(String(v))}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** Renders a status as Prometheus text format 0.0.4. */
export function renderMetrics(st: AgentStatus): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: "gauge" | "counter",
    help: string,
    rows: [Record<string, string | number>, number][],
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of rows) out.push(`${name}${labels(l)} ${v}`);
  };
  metric("haagent_uptime_seconds", "gauge", "Seconds since the agent started.", [[{}, st.uptimeS]]);
  metric("haagent_reloads_total", "counter", "Successful configuration reloads.", [[
    {},
    st.reloads,
  ]]);
  // Prometheus's standard process metrics, for watching a long-running agent.
  metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", [[
    {},
    st.process.rssBytes,
  ]]);
  if (st.process.openFds >= 0) {
    metric("process_open_fds", "gauge", "Number of open file descriptors.", [[
      {},
      st.process.openFds,
    ]]);
  }
  const inst = st.instances.map((i) => ({
    instance: i.name,
    interface: i.interface,
    vrid: i.vrid,
  }));
  metric(
    "haagent_vrrp_state",
    "gauge",
    "VRRP state: 0 init, 1 backup, 2 master, 3 fault.",
    st.instances.map((i, n) => [inst[n]!, STATE_VALUE[i.state] ?? -1]),
  );
  metric(
    "haagent_vrrp_priority",
    "gauge",
    "Effective VRRP priority (after tracking).",
    st.instances.map((i, n) => [inst[n]!, i.effectivePriority]),
  );
  const statNames = new Set(st.instances.flatMap((i) => Object.keys(i.stats)));
  for (const s of statNames) {
    const snake = s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    metric(
      `haagent_vrrp_${snake}_total`,
      "counter",
      `VRRP ${snake.replace(/_/g, " ")} since the instance started.`,
      st.instances.map((i, n) => [inst[n]!, i.stats[s] ?? 0]),
    );
  }
  metric(
    "haagent_vrrp_dropped_adverts_total",
    "counter",
    "Received adverts dropped, by reason.",
    st.instances.flatMap((i, n) =>
      Object.entries(i.drops).map(([reason, v]) =>
        [{ ...inst[n]!, reason }, v] as [Record<string, string | number>, number]
      )
    ),
  );
  metric("haagent_vrrp_unknown_vrid_total", "counter", "Adverts for VRIDs not configured here.", [
    [{}, st.drops["unknown-vrid"] ?? 0],
  ]);
  metric("haagent_ipvs_available", "gauge", "1 when the kernel offers IPVS.", [
    [{}, st.ipvs.available ? 1 : 0],
  ]);
  metric("haagent_ipvs_errors_total", "counter", "IPVS operations the kernel refused.", [
    [{}, st.ipvs.errors],
  ]);
  const rs = st.virtualServers.flatMap((vs) =>
    vs.realServers.map((r) => ({ vs: vs.name, rs: r.address, up: r.up, weight: r.weight }))
  );
  metric(
    "haagent_real_server_up",
    "gauge",
    "1 when the real server's checks pass.",
    rs.map((r) => [{ virtual_server: r.vs, real_server: r.rs }, r.up ? 1 : 0]),
  );
  metric(
    "haagent_real_server_weight",
    "gauge",
    "Weight programmed for the real server.",
    rs.map((r) => [{ virtual_server: r.vs, real_server: r.rs }, r.weight]),
  );
  metric(
    "haagent_virtual_server_quorum_up",
    "gauge",
    "1 while the virtual server has quorum.",
    st.virtualServers.map((vs) => [{ virtual_server: vs.name }, vs.quorumUp ? 1 : 0]),
  );
  metric(
    "haagent_tracked_up",
    "gauge",
    "1 while a tracked script or process is up (a tracked file: while it holds 0).",
    st.tracked.map((t) => [{ kind: t.kind, name: t.name }, t.up ? 1 : 0]),
  );
  if (st.announce !== null) {
    const a = st.announce;
    metric(
      "haagent_announce_route",
      "gauge",
      "1 while the address is a route in the announce table (announced to BGP), 0 while not.",
      a.routes.map((r) => [{ prefix: r.prefix, table: a.table }, r.announced ? 1 : 0]),
    );
    metric(
      "haagent_announce_source_holds",
      "gauge",
      "Why: 1 while the source (an instance as MASTER, a virtual server with quorum) holds the " +
        "address.",
      a.routes.flatMap((r) =>
        r.sources.map((s) =>
          [{ prefix: r.prefix, source: s.name }, s.holds ? 1 : 0] as [
            Record<string, string | number>,
            number,
          ]
        )
      ),
    );
    metric(
      "haagent_announce_changes_total",
      "counter",
      "Routes added to and withdrawn from the announce table.",
      [[{ change: "add" }, a.adds], [{ change: "withdraw" }, a.withdrawals]],
    );
    metric(
      "haagent_announce_errors",
      "gauge",
      "Routes the kernel refused to add (tried again every 5 s).",
      [[{}, a.routes.filter((r) => r.error !== null).length]],
    );
  }
  if (st.mail !== null) {
    const m = st.mail;
    metric("haagent_mail_alerts_total", "counter", "E-mail alerts sent, failed, dropped.", [
      [{ result: "sent" }, m.sent],
      [{ result: "failed" }, m.failed],
      [{ result: "dropped" }, m.dropped],
    ]);
  }
  return out.join("\n") + "\n";
}

/** Metrics connections served at once; more are closed on accept. */
export const MAX_METRICS_CONNECTIONS = 16;

/**
 * Serves `/metrics` until the returned server is shut down; throws, naming the address, when
 * it cannot listen.
 */
export function serveMetrics(
  listen: { address: string; port: number },
  status: () => AgentStatus,
  onError: (message: string) => void,
): TextServer {
  return serveText(
    "metrics",
    listen,
    (path) =>
      path === "/metrics"
        ? { status: 200, contentType: "text/plain; version=0.0.4", body: renderMetrics(status()) }
        : { status: 404, contentType: "text/plain", body: "not found\n" },
    {
      maxConnections: MAX_METRICS_CONNECTIONS,
      onError,
    },
  );
}
