import { assertEquals } from "../../tests/helpers/assert.ts";
import { checkerAlerts, mailSettings, smtpRelay, vrrpAlerts } from "./alerts.ts";
import type { GlobalConfig } from "./types.ts";

const g = (o: Partial<GlobalConfig>) =>
  ({ notificationEmail: [], ...o }) as unknown as GlobalConfig;

Deno.test("alerts: an object's smtp_alert wins, then the kind's global switch, then smtp_alert", () => {
  assertEquals(vrrpAlerts(g({}), undefined), false);
  assertEquals(vrrpAlerts(g({ smtpAlert: true }), undefined), true);
  assertEquals(vrrpAlerts(g({ smtpAlert: true, smtpAlertVrrp: false }), undefined), false);
  assertEquals(vrrpAlerts(g({ smtpAlert: true }), false), false);
  assertEquals(vrrpAlerts(g({ smtpAlertChecker: true }), undefined), false);
  assertEquals(checkerAlerts(g({ smtpAlertChecker: true }), undefined), true);
  assertEquals(checkerAlerts(g({ smtpAlert: true }), false), false);
  assertEquals(checkerAlerts(g({}), false, true), true);
  assertEquals(checkerAlerts(g({}), true, undefined), true);
});

Deno.test("alerts: smtp_server forms and the mail settings", () => {
  assertEquals(smtpRelay("mail.example.net"), { host: "mail.example.net", port: 25 });
  assertEquals(smtpRelay("10.0.0.1:2525"), { host: "10.0.0.1", port: 2525 });
  assertEquals(smtpRelay("[2001:db8::1]"), { host: "2001:db8::1", port: 25 });
  assertEquals(smtpRelay("[2001:db8::1]:587"), { host: "2001:db8::1", port: 587 });
  assertEquals(mailSettings(g({ smtpServer: "10.0.0.1" }), "lb1"), null);
  assertEquals(
    mailSettings(
      g({ smtpServer: "10.0.0.1", notificationEmail: ["a@b"], smtpConnectTimeoutMs: 30_000 }),
      "lb1",
    ),
    {
      server: { host: "10.0.0.1", port: 25 },
      from: "haagent@lb1",
      to: ["a@b"],
      routerId: "lb1",
      timeoutMs: 30_000,
    },
  );
});
