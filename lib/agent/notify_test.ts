import { assertEquals } from "../../tests/helpers/assert.ts";
import { vrrpAlert } from "./notify.ts";

Deno.test("vrrpAlert: keepalived's subjects and bodies; FAULT skipped under no_email_faults", () => {
  assertEquals(vrrpAlert("INSTANCE", "VI_1", "MASTER", false), {
    subject: "VRRP Instance VI_1 - Entering MASTER state",
    body: "=> VRRP Instance is now owning VRRP VIPs <=",
  });
  assertEquals(vrrpAlert("INSTANCE", "VI_1", "BACKUP", false), {
    subject: "VRRP Instance VI_1 - Entering BACKUP state",
    body: "=> VRRP Instance is no longer owning VRRP VIPs <=",
  });
  assertEquals(vrrpAlert("INSTANCE", "VI_1", "INIT", false), {
    subject: "VRRP Instance VI_1 - Stopping",
    body: "=> VRRP Instance stopping <=",
  });
  assertEquals(vrrpAlert("GROUP", "G", "FAULT", false), {
    subject: "VRRP Group G - Entering FAULT state",
    body: "=> All VRRP group instances are now in FAULT state <=",
  });
  assertEquals(vrrpAlert("INSTANCE", "VI_1", "FAULT", true), null);
});
