/**
 * Kernel parameters under /proc/sys (of the process's network namespace): read and write one
 * integer. The one place haagent touches sysctl files; callers take the `Sysctl` interface so
 * tests can use a map. Parameters are named by their path under /proc/sys
 * (`net/ipv4/conf/all/rp_filter`), so interface names with dots (`vrrp.51`) stay unambiguous.
 *
 * @module
 */

/** Reads and writes integer sysctls by path under /proc/sys. */
export interface Sysctl {
  /** The value, or null when the parameter does not exist or is not a number. */
  read(path: string): number | null;
  /** Writes the value; throws an Error naming the parameter on failure. */
  write(path: string, value: number): void;
}

/** Sysctls on the real /proc/sys. */
export class ProcSysctl implements Sysctl {
  read(path: string): number | null {
    try {
      const text = Deno.readTextFileSync(`/proc/sys/${path}`).trim();
      const v = Number(text);
      return text !== "" && Number.isInteger(v) ? v : null;
    } catch {
      return null;
    }
  }

  write(path: string, value: number): void {
    try {
      Deno.writeTextFileSync(`/proc/sys/${path}`, `${value}\n`);
    } catch (e) {
      throw new Error(`Cannot set /proc/sys/${path} to ${value}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
}
