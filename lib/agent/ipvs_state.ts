/**
 * What the agent owns in IPVS, kept in a small file beside the pid file (`/run/haagent.pid` ->
 * `/run/haagent.ipvs.json`) so that the next agent knows it after a crash or a stop that kept
 * the rules: the services it programmed (a service it owned and no longer wants is deleted; one
 * added by hand or by another tool never is) and the real servers its checks had taken down (a
 * restart in place, or a start after a crash, starts from those states instead of putting
 * failed real servers back until their checks fail again; after a stop that removed the rules,
 * the configuration decides, as at a first start). Written whole to a new file,
 * then renamed; mode 0600.
 *
 * @module
 */

/** The file's contents. */
export interface IpvsState {
  version: 1;
  /** Service names (`serviceName(key)`) this agent programmed. */
  owned: string[];
  /** Ids of real servers that were down (`RsModel.id`). */
  down: string[];
  /** How the agent that wrote it left: "running" (a crash leaves this), "kept" or "removed". */
  left: "running" | "kept" | "removed";
}

/** The state file that goes with a pid file. */
export function ipvsStatePath(pidFile: string): string {
  return `${pidFile.replace(/\.pid$/, "")}.ipvs.json`;
}

/** Parses the file's text; null (and why) when it is not a state this version wrote. */
export function parseIpvsState(text: string): { state: IpvsState } | { bad: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { bad: `not JSON: ${(e as Error).message}` };
  }
  const o = v as Partial<IpvsState> | null;
  const strings = (x: unknown): x is string[] =>
    Array.isArray(x) && x.every((s) => typeof s === "string");
  if (
    o === null || typeof o !== "object" || o.version !== 1 || !strings(o.owned) ||
    !strings(o.down) ||
    !["running", "kept", "removed"].includes(o.left as string)
  ) {
    return { bad: "not a haagent IPVS state (version 1)" };
  }
  return { state: o as IpvsState };
}

/** Reads the state file: null when there is none; a bad file is reported and ignored. */
export async function readIpvsState(
  path: string,
  warn: (message: string) => void,
): Promise<IpvsState | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      warn(`cannot read the IPVS state ${path}: ${(e as Error).message}`);
    }
    return null;
  }
  const r = parseIpvsState(text);
  if ("bad" in r) {
    warn(`ignoring the IPVS state ${path}: ${r.bad}`);
    return null;
  }
  return r.state;
}

/** Writes the state file atomically (a new file renamed over the old one). */
export async function writeIpvsState(path: string, state: IpvsState): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    await Deno.remove(tmp).catch(() => {});
    // createNew (O_EXCL): never through a file or link someone left at that name.
    await Deno.writeTextFile(tmp, JSON.stringify(state) + "\n", { mode: 0o600, createNew: true });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`cannot write the IPVS state ${path}: ${(e as Error).message}`, { cause: e });
  }
}
