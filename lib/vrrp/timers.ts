/**
 * VRRP timer arithmetic (RFC 3768 6.1 for v2, RFC 5798 6.1 for v3), exact and pure.
 *
 * Results are fractional milliseconds: keepalived truncates v3 skew to whole centiseconds,
 * the RFC does not; haagent follows the RFC (v3, 10 cs, priority 100: 360.9375 ms).
 *
 * @module
 */

/** Default number of missed adverts before the master is declared down (keepalived `down_timer_adverts`). */
export const DEFAULT_DOWN_TIMER_ADVERTS = 3;

function checkPriority(priority: number): void {
  if (!Number.isInteger(priority) || priority < 0 || priority > 255) {
    throw new RangeError(`VRRP priority must be an integer 0..255, got ${priority}`);
  }
}

function checkIntervalCs(intervalCs: number): void {
  if (!Number.isFinite(intervalCs) || intervalCs <= 0) {
    throw new RangeError(`VRRP advert interval must be > 0 cs, got ${intervalCs}`);
  }
}

/** Skew_Time in ms: v2 (256 - priority) / 256 s; v3 ((256 - priority) * MAI) / 256 cs. */
export function skewTimeMs(version: 2 | 3, priority: number, masterAdverIntCs: number): number {
  checkPriority(priority);
  checkIntervalCs(masterAdverIntCs);
  // RFC 3768 6.1: Skew_Time = (256 - Priority) / 256 seconds, independent of the interval.
  if (version === 2) return ((256 - priority) * 1000) / 256;
  // RFC 5798 6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256 centiseconds.
  return ((256 - priority) * masterAdverIntCs * 10) / 256;
}

/** Master_Down_Interval in ms: `downTimerAdverts` * Master_Adver_Interval + Skew_Time. */
export function masterDownIntervalMs(
  version: 2 | 3,
  priority: number,
  masterAdverIntCs: number,
  downTimerAdverts = DEFAULT_DOWN_TIMER_ADVERTS,
): number {
  if (!Number.isInteger(downTimerAdverts) || downTimerAdverts < 1) {
    throw new RangeError(`down_timer_adverts must be an integer >= 1, got ${downTimerAdverts}`);
  }
  // RFC 5798 6.1 / RFC 3768 6.1: Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time.
  return downTimerAdverts * masterAdverIntCs * 10 +
    skewTimeMs(version, priority, masterAdverIntCs);
}
