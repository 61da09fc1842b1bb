/**
 * Facts about this host that the CLI needs.
 *
 * @module
 */
import { linkIndex } from "../../ffi/ioctl.ts";

/** Whether an interface exists on this host (used only for warnings). */
export function interfaceExists(name: string): boolean {
  try {
    linkIndex(name);
    return true;
  } catch {
    return false;
  }
}
