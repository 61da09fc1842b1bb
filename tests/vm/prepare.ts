/**
 * Prepares the qemu guest used by the IPVS tests: downloads Debian's kernel and busybox-static
 * with `apt-get download` (the host is left alone), extracts them with `dpkg -x`, builds
 * `modules.dep` with `busybox depmod` and an initramfs with `busybox cpio`. Idempotent: every
 * step is skipped when its output exists. Run directly: `deno run -A tests/vm/prepare.ts`.
 *
 * @module
 */

/** Where the prepared guest lives. */
export interface GuestImage {
  /** The kernel image (`vmlinuz-*`). */
  kernel: string;
  /** The initramfs (`initramfs.cpio`). */
  initramfs: string;
  /** The kernel version (`6.1.0-56-amd64`). */
  kernelVersion: string;
  /** The cache directory everything sits in. */
  cacheDir: string;
}

/** Modules loaded in the guest, in order (crc32c_generic is a soft dependency of libcrc32c). */
export const GUEST_MODULES: readonly string[] = [
  "virtio_pci",
  "netfs",
  "fscache",
  "9pnet",
  "9pnet_virtio",
  "9p",
  "crc32c_generic",
  "libcrc32c",
  "nf_defrag_ipv4",
  "nf_defrag_ipv6",
  "nf_conntrack",
  "ip_vs",
  "ip_vs_rr",
  "ip_vs_wrr",
  "ip_vs_lc",
  "ip_vs_wlc",
  "ip_vs_lblc",
  "ip_vs_lblcr",
  "ip_vs_dh",
  "ip_vs_sh",
  "ip_vs_sed",
  "ip_vs_nq",
  "ip_vs_fo",
  "ip_vs_ovf",
  "ip_vs_mh",
  "ip_vs_twos",
  "veth",
  "bridge",
];

/** The default cache directory: `.cache/vm/` in the repository (gitignored). */
export function defaultCacheDir(): string {
  return new URL("../../.cache/vm/", import.meta.url).pathname.replace(/\/$/, "");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function sh(args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(args[0]!, {
    args: args.slice(1),
    stdout: "piped",
    stderr: "piped",
    ...(cwd === undefined ? {} : { cwd }),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${args.join(" ")} failed (${out.code}): ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  return text;
}

async function findFile(dir: string, re: RegExp): Promise<string | null> {
  if (!(await exists(dir))) return null;
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && re.test(e.name)) return `${dir}/${e.name}`;
  }
  return null;
}

/** The real kernel package `linux-image-amd64` depends on (`linux-image-6.1.0-56-amd64`). */
async function kernelPackage(): Promise<string> {
  const read = async () => {
    const text = await sh(["apt-cache", "depends", "linux-image-amd64"]).catch(() => "");
    return /Depends:\s*(linux-image-[0-9][^\s]*)/.exec(text)?.[1] ?? null;
  };
  let pkg = await read();
  if (pkg === null) {
    await sh(["apt-get", "update"]);
    pkg = await read();
  }
  if (pkg === null) throw new Error("cannot resolve the kernel package of linux-image-amd64");
  return pkg;
}

/** Modules `names` need, with their dependencies, as paths relative to the modules dir. */
export function moduleClosure(modulesDep: string, names: readonly string[]): string[] {
  const deps = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of modulesDep.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const path = line.slice(0, colon);
    deps.set(path, line.slice(colon + 1).trim().split(/\s+/).filter(Boolean));
    const base = path.slice(path.lastIndexOf("/") + 1).replace(/\.ko(\.\w+)?$/, "");
    byName.set(base.replaceAll("-", "_"), path);
  }
  const out = new Set<string>();
  const visit = (path: string) => {
    if (out.has(path)) return;
    out.add(path);
    for (const d of deps.get(path) ?? []) visit(d);
  };
  for (const n of names) {
    const p = byName.get(n.replaceAll("-", "_"));
    if (p !== undefined) visit(p);
  }
  return [...out].sort();
}

const INIT = `#!/bin/busybox sh
# haagent IPVS test guest: load modules, mount the host root (read-only, 9p), chroot, run.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo 0 > /proc/sys/kernel/printk 2>/dev/null
for m in $(cat /etc/modules-order); do modprobe "$m" 2>/dev/null || echo "guest: module $m not loaded"; done
mkdir -p /host
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro host0 /host; then
  echo "guest: cannot mount the host share"; echo "HAAGENT-VM-EXIT=97"; poweroff -f
fi
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mount -t tmpfs tmp /host/tmp
mount -t tmpfs run /host/run
mkdir -p /host/run/netns /host/tmp/haagent-vm /host/run/haagent-repo
# The repository, shared on its own: the host's /tmp and /run are hidden by the tmpfs mounts
# above, and a checkout may live there (CI clones anywhere).
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro repo /host/run/haagent-repo \
  || echo "guest: cannot mount the repository share"
for a in $(cat /proc/cmdline); do
  case "$a" in haagent.script=*) script="\${a#haagent.script=}";; esac
done
ip link set lo up 2>/dev/null
echo "guest: up, kernel $(uname -r), running $script"
chroot /host /bin/sh "$script"
rc=$?
echo "HAAGENT-VM-EXIT=$rc"
sync
poweroff -f
`;

/** Downloads, extracts and builds what the guest needs; returns where it is. */
export async function prepare(
  cacheDir = defaultCacheDir(),
  say = console.log,
): Promise<GuestImage> {
  const debs = `${cacheDir}/debs`;
  const root = `${cacheDir}/root`;
  const bb = `${cacheDir}/busybox`;
  await Deno.mkdir(debs, { recursive: true });

  let kernelDeb = await findFile(debs, /^linux-image-[0-9].*\.deb$/);
  let busyboxDeb = await findFile(debs, /^busybox-static_.*\.deb$/);
  if (kernelDeb === null || busyboxDeb === null) {
    const pkgs = [];
    if (kernelDeb === null) pkgs.push(await kernelPackage());
    if (busyboxDeb === null) pkgs.push("busybox-static");
    say(`vm: apt-get download ${pkgs.join(" ")}`);
    await sh(["apt-get", "download", ...pkgs], debs);
    kernelDeb = await findFile(debs, /^linux-image-[0-9].*\.deb$/);
    busyboxDeb = await findFile(debs, /^busybox-static_.*\.deb$/);
    if (kernelDeb === null || busyboxDeb === null) throw new Error("apt-get download left no .deb");
  }
  if (!(await exists(`${root}/boot`))) {
    say("vm: extracting the kernel package");
    await sh(["dpkg", "-x", kernelDeb, `${root}.tmp`]);
    await Deno.rename(`${root}.tmp`, root);
  }
  if (!(await exists(`${bb}/bin/busybox`))) {
    await sh(["dpkg", "-x", busyboxDeb, bb]);
  }
  const busybox = `${bb}/bin/busybox`;
  const kernel = await findFile(`${root}/boot`, /^vmlinuz-/);
  if (kernel === null) throw new Error(`no vmlinuz in ${root}/boot`);
  const kernelVersion = kernel.slice(kernel.lastIndexOf("vmlinuz-") + "vmlinuz-".length);
  const modDir = `${root}/lib/modules/${kernelVersion}`;
  if (!(await exists(`${modDir}/modules.dep`))) {
    say("vm: busybox depmod");
    await sh([busybox, "depmod", "-b", root, kernelVersion]);
  }

  // Named after the init script, so a changed script builds a new image.
  const initHash = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(INIT))),
  ).slice(0, 6).map((b) => b.toString(16).padStart(2, "0")).join("");
  const initramfs = `${cacheDir}/initramfs-${initHash}.cpio`;
  if (!(await exists(initramfs))) {
    say("vm: building the initramfs");
    const tree = `${cacheDir}/initramfs.tree`;
    await Deno.remove(tree, { recursive: true }).catch(() => {});
    for (const d of ["bin", "proc", "sys", "dev", "etc", "tmp", `lib/modules/${kernelVersion}`]) {
      await Deno.mkdir(`${tree}/${d}`, { recursive: true });
    }
    await Deno.copyFile(busybox, `${tree}/bin/busybox`);
    await Deno.chmod(`${tree}/bin/busybox`, 0o755);
    await Deno.writeTextFile(`${tree}/init`, INIT);
    await Deno.chmod(`${tree}/init`, 0o755);
    const dep = await Deno.readTextFile(`${modDir}/modules.dep`);
    const mods = moduleClosure(dep, GUEST_MODULES);
    const keep = new Set(mods);
    const depLines = dep.split("\n").filter((l) => keep.has(l.slice(0, l.indexOf(":"))));
    for (const m of mods) {
      const target = `${tree}/lib/modules/${kernelVersion}/${m}`;
      await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
      await Deno.copyFile(`${modDir}/${m}`, target);
    }
    await Deno.writeTextFile(
      `${tree}/lib/modules/${kernelVersion}/modules.dep`,
      depLines.join("\n") + "\n",
    );
    await Deno.writeTextFile(`${tree}/etc/modules-order`, GUEST_MODULES.join("\n") + "\n");
    const files = (await sh(["find", ".", "-mindepth", "1"], tree)).trim().split("\n");
    const cpio = new Deno.Command(busybox, {
      args: ["cpio", "-o", "-H", "newc"],
      cwd: tree,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = cpio.stdin.getWriter();
    await w.write(new TextEncoder().encode(files.join("\n") + "\n"));
    await w.close();
    const out = await cpio.output();
    if (!out.success) {
      throw new Error(`busybox cpio failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    await Deno.writeFile(`${initramfs}.tmp`, out.stdout);
    await Deno.rename(`${initramfs}.tmp`, initramfs);
    await Deno.remove(tree, { recursive: true });
    say(`vm: initramfs ${mods.length} modules, ${(out.stdout.length / 1e6).toFixed(1)} MB`);
  }
  return { kernel, initramfs, kernelVersion, cacheDir };
}

if (import.meta.main) {
  const img = await prepare(Deno.args[0] ?? defaultCacheDir());
  console.log(JSON.stringify(img));
}
