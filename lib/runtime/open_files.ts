/**
 * The open-files limit at start: raised to what a busy agent may need, as keepalived raises its
 * own (set_max_file_limit), so that the descriptors its VRRP sockets, checks, scripts and
 * clients take do not run out at the usual soft limit of 1024.
 *
 * @module
 */
import { noFileLimit, setNoFileLimit } from "../../ffi/rlimit.ts";
import type { Logger } from "./log.ts";

/** The soft limit the agent raises itself to (never above the hard limit). */
export const WANTED_OPEN_FILES = 65_536;
/** Below this the agent warns: a few hundred checks or clients could exhaust it. */
export const LOW_OPEN_FILES = 1024;

/** Raises the soft RLIMIT_NOFILE towards WANTED_OPEN_FILES; returns the limit in force. */
export function raiseOpenFilesLimit(log: Logger): { soft: number; hard: number } | null {
  try {
    const l = noFileLimit();
    const want = Math.min(l.hard, WANTED_OPEN_FILES);
    let soft = l.soft;
    if (soft < want) {
      setNoFileLimit({ soft: want, hard: l.hard });
      log.info(`open files limit raised from ${soft} to ${want} (hard limit ${l.hard})`);
      soft = want;
    }
    if (soft < LOW_OPEN_FILES) {
      log.warn(
        `open files limit ${soft} (hard ${l.hard}): a busy agent may run out of descriptors ` +
          `(raise LimitNOFILE)`,
      );
    }
    return { soft, hard: l.hard };
  } catch (e) {
    log.warn(`${(e as Error).message}: the open files limit stays as it is`);
    return null;
  }
}
