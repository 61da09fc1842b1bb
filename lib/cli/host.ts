/**
 * Facts about this host that the CLI needs.
 *
 * @module
 */
import { linkIndex } from "../../ffi/ioctl.ts";
import { resolveUser, scriptAccess } from "../runtime/script.ts";

/** Whether an interface exists on this host (used only for warnings). */
export function interfaceExists(name: string): boolean {
  try {
    linkIndex(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a script cannot run here as `user` (or the current user): missing, not executable, an
 * unknown user; null when it can (used only for warnings).
 */
export function scriptProblem(command: string, user: string | undefined): string | null {
  let ids = { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 };
  if (user !== undefined && user !== "") {
    const r = resolveUser(user);
    if (!r.ok) return r.reason;
    ids = r.value;
  }
  return scriptAccess(command, ids);
}
