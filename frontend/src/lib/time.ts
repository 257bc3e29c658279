// Time helpers. Go encodes an unset time.Time as "0001-01-01T00:00:00Z" even
// with omitempty, so every parse treats years before 1971 as absent.

/** ms parses an RFC3339 time to epoch milliseconds, or undefined when unset. */
export function ms(t: string | undefined | null): number | undefined {
  if (!t) return undefined;
  const v = Date.parse(t);
  if (Number.isNaN(v) || v < 31_536_000_000) return undefined;
  return v;
}

/** isSet reports whether t is a real time. */
export function isSet(t: string | undefined | null): boolean {
  return ms(t) !== undefined;
}

/** formatDuration renders milliseconds as "850ms", "12.3s", "4m05s", "2h03m". */
export function formatDuration(millis: number | undefined): string {
  if (millis === undefined || !Number.isFinite(millis) || millis < 0) return "—";
  if (millis < 1000) return `${Math.round(millis)}ms`;
  const s = millis / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** nsToMs converts Go nanoseconds to milliseconds. */
export function nsToMs(ns: number | undefined): number | undefined {
  return ns === undefined ? undefined : ns / 1e6;
}

/** span returns the duration between two RFC3339 times, ending at now when open. */
export function span(start: string | undefined, end: string | undefined, now: number): number | undefined {
  const a = ms(start);
  if (a === undefined) return undefined;
  return (ms(end) ?? now) - a;
}

/** formatTime renders a time for lists: today as HH:MM:SS, else date and time. */
export function formatTime(t: string | undefined, now = Date.now()): string {
  const v = ms(t);
  if (v === undefined) return "—";
  const d = new Date(v);
  const today = new Date(now);
  const hms = d.toLocaleTimeString(undefined, { hour12: false });
  if (d.toDateString() === today.toDateString()) return hms;
  return `${d.toLocaleDateString()} ${hms}`;
}

/** formatTokens renders a token count compactly: 950, 12.3k, 1.2M. */
export function formatTokens(n: number | undefined): string {
  if (!n) return "0";
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** formatBytes renders a size: 512 B, 3.4 KB, 4.1 GB. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
