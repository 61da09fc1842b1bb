import { assertEquals } from "../../tests/helpers/assert.ts";
import {
  defaultScriptUser,
  pathPrefixes,
  pathProblem,
  type PathStat,
  type ScriptFs,
  ScriptPolicy,
  scriptVerdict,
} from "./script_security.ts";

const dir = (mode: number, uid = 0, gid = 0): PathStat => ({
  uid,
  gid,
  mode,
  isDirectory: true,
  isFile: false,
  isSymlink: false,
});
const file = (mode: number, uid = 0, gid = 0): PathStat => ({
  uid,
  gid,
  mode,
  isDirectory: false,
  isFile: true,
  isSymlink: false,
});

function fakeFs(tree: Record<string, PathStat>, links: Record<string, string> = {}): ScriptFs {
  return {
    lstat: (p) => tree[p] ?? null,
    realpath: (p) => links[p] ?? (tree[p] !== undefined ? p : null),
    searchPath: "/usr/bin:/bin",
  };
}

const SAFE = {
  "/": dir(0o755),
  "/etc": dir(0o755),
  "/etc/ha": dir(0o755),
  "/etc/ha/check.sh": file(0o755),
  "/tmp": dir(0o1777),
  "/tmp/ok.sh": file(0o755),
  "/srv": dir(0o777),
  "/srv/bad.sh": file(0o755),
  "/opt": dir(0o775, 0, 50),
  "/opt/grp.sh": file(0o755),
  "/home": dir(0o755),
  "/home/u": dir(0o755, 1000, 1000),
  "/home/u/x.sh": file(0o755, 0),
  "/etc/ha/ww.sh": file(0o757),
  "/usr": dir(0o755),
  "/usr/bin": dir(0o755),
  "/usr/bin/true": file(0o755),
};

Deno.test("script security: keepalived's check_security, naming the path and the permission", () => {
  const fs = fakeFs(SAFE);
  assertEquals(pathPrefixes("/etc/ha/check.sh"), ["/", "/etc", "/etc/ha", "/etc/ha/check.sh"]);
  assertEquals(pathProblem("/etc/ha/check.sh", fs.lstat), null);
  assertEquals(
    pathProblem("/tmp/ok.sh", fs.lstat),
    null,
    "a sticky directory may be world-writable",
  );
  assertEquals(
    pathProblem("/srv/bad.sh", fs.lstat),
    "directory /srv is writable by others (mode 0777)",
  );
  assertEquals(
    pathProblem("/opt/grp.sh", fs.lstat),
    "directory /opt is writable by group 50 (mode 0775)",
  );
  assertEquals(
    pathProblem("/home/u/x.sh", fs.lstat),
    "directory /home/u is owned by uid 1000, not root",
  );
  assertEquals(
    pathProblem("/etc/ha/ww.sh", fs.lstat),
    "file /etc/ha/ww.sh is writable by others (mode 0757)",
  );
  assertEquals(pathProblem("/etc/ha/none.sh", fs.lstat), "/etc/ha/none.sh cannot be read");
});

Deno.test("script security: only scripts run as root (or set-uid root) are checked; security refuses", () => {
  const fs = fakeFs(SAFE);
  const root = { uid: 0, gid: 0 };
  const user = { uid: 1000, gid: 1000 };
  assertEquals(scriptVerdict("/srv/bad.sh", root, true, fs), {
    run: false,
    problem: "directory /srv is writable by others (mode 0777)",
    path: "/srv/bad.sh",
  });
  assertEquals(scriptVerdict("/srv/bad.sh", root, false, fs).run, true, "without security: runs");
  assertEquals(scriptVerdict("/srv/bad.sh", user, true, fs).problem, null, "not run as root");
  const suid = fakeFs({ ...SAFE, "/srv/bad.sh": file(0o4755) });
  assertEquals(scriptVerdict("/srv/bad.sh", user, true, suid).run, false, "set-uid root is root");
  assertEquals(scriptVerdict("true", root, true, fs).path, "/usr/bin/true", "PATH search");
  // The resolved path is checked too: a safe name linking into an unsafe directory.
  const linked = fakeFs(
    { ...SAFE, "/etc/ha/link.sh": { ...file(0o777), isFile: false, isSymlink: true } },
    { "/etc/ha/link.sh": "/srv/bad.sh" },
  );
  assertEquals(
    scriptVerdict("/etc/ha/link.sh", root, true, linked).problem,
    "directory /srv is writable by others (mode 0777)",
  );
});

Deno.test("script security: the default user as keepalived's get_default_script_user", () => {
  const withKs = "root:x:0:0::/root:/bin/sh\nkeepalived_script:x:998:998::/:/usr/sbin/nologin\n";
  const without = "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n";
  assertEquals(defaultScriptUser(null, false, withKs), {
    ok: true,
    user: "keepalived_script",
    notice: null,
  });
  const d = defaultScriptUser(null, false, without);
  assertEquals(d.ok && d.user, null);
  assertEquals(d.ok && d.notice?.includes("run as root"), true);
  assertEquals(defaultScriptUser(null, true, without).ok, false, "security: no silent root");
  assertEquals(defaultScriptUser("nobody", true, without), {
    ok: true,
    user: "nobody",
    notice: null,
  });
  assertEquals(defaultScriptUser("ghost", false, without).ok, false);
  const p = new ScriptPolicy(fakeFs(SAFE));
  p.configure({ security: true, scriptUser: null, passwd: without }, null);
  assertEquals("refused" in p.userFor(undefined), true);
  assertEquals(p.userFor("nobody"), { user: "nobody" });
});
