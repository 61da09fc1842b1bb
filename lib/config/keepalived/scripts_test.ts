import { assertEquals } from "../../../tests/helpers/assert.ts";
import { formatKaIssue, importKeepalivedText, realFs } from "../import_keepalived.ts";

// Seen with keepalived 2.2.7 here: `script /x/n.sh scriptarg` runs n.sh without arguments;
// `notify_master /x/n.sh daemon` runs n.sh as uid 1 (daemon) without arguments;
// `notify_backup "/x/n.sh backuparg"` runs n.sh with the argument.
Deno.test("import: script words as keepalived 2.2.7 reads them (quoted command, then user)", () => {
  const r = importKeepalivedText(
    `vrrp_script chk {
  script /x/n.sh scriptarg
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    10.0.0.50/24
  }
  track_script {
    chk
  }
  notify_master /x/n.sh daemon
  notify_backup "/x/n.sh backuparg"
}
`,
    "k.conf",
    realFs,
  );
  assertEquals(r.errors, []);
  assertEquals(r.warnings.map(formatKaIssue).map((w) => w.slice(0, 60)), [
    'k.conf:2:3: warning: script: keepalived 2.2.7 runs "/x/n.sh"',
    'k.conf:13:3: warning: notify_master: runs as "daemon" in kee',
  ]);
  assertEquals(r.yaml.includes("command: /x/n.sh}"), true, r.yaml);
  assertEquals(r.yaml.includes("notify_master: /x/n.sh\n"), true, r.yaml);
  assertEquals(r.yaml.includes("notify_backup: /x/n.sh backuparg\n"), true, r.yaml);
});
