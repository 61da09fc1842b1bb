/**
 * Who sends e-mail alerts, and where to (keepalived's smtp_alert rules): an object's own
 * `smtp_alert` wins, then global `smtp_alert_vrrp` / `smtp_alert_checker`, then global
 * `smtp_alert`, else off; mail goes out only with an `smtp_server` and at least one
 * `notification_email`.
 *
 * @module
 */
import type { GlobalConfig } from "./types.ts";
import type { MailSettings } from "../runtime/mail.ts";

/** Whether a VRRP instance or sync group with `own` (its smtp_alert) sends alerts. */
export function vrrpAlerts(g: GlobalConfig, own: boolean | undefined): boolean {
  return own ?? g.smtpAlertVrrp ?? g.smtpAlert ?? false;
}

/** Whether a real server (`own`, inside a virtual server with `vs`) sends alerts. */
export function checkerAlerts(
  g: GlobalConfig,
  vs: boolean | undefined,
  own?: boolean | undefined,
): boolean {
  return own ?? vs ?? g.smtpAlertChecker ?? g.smtpAlert ?? false;
}

/** The relay as host and port from `HOST[:PORT]` (IPv6 in brackets); port 25 by default. */
export function smtpRelay(text: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6 !== null) return { host: v6[1]!, port: v6[2] === undefined ? 25 : Number(v6[2]) };
  const i = text.lastIndexOf(":");
  if (i < 0) return { host: text, port: 25 };
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

/** Where alerts go, or null when no mail can be sent (no relay or no recipient). */
export function mailSettings(g: GlobalConfig, routerId: string): MailSettings | null {
  if (g.smtpServer === undefined || g.notificationEmail.length === 0) return null;
  return {
    server: smtpRelay(g.smtpServer),
    from: g.notificationEmailFrom ?? `haagent@${routerId}`,
    to: [...g.notificationEmail],
    routerId,
    timeoutMs: g.smtpConnectTimeoutMs,
  };
}
