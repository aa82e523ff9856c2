/** Phase names and their colour classes, shared by every panel. */
export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT', 'SKIPPED', 'CACHE_HIT']);

export function isTerminal(phase: string | null | undefined): boolean {
  return phase != null && TERMINAL.has(phase);
}

export function phaseClass(phase: string | null | undefined): string {
  return `plait-phase-${(phase ?? 'UNKNOWN').toLowerCase().replace(/_/g, '-')}`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !isFinite(seconds)) {
    return '—';
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  }
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) {
    return `${m}m ${s}s`;
  }
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

// One formatter for every row: `toLocaleString()` builds a new one per call.
let dateTime: Intl.DateTimeFormat | null = null;

export function formatTime(iso: string | null | undefined): string {
  if (!iso) {
    return '—';
  }
  const d = new Date(iso);
  if (isNaN(d.getTime())) {
    return iso;
  }
  dateTime ??= new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
  return dateTime.format(d);
}

/** "3 minutes ago"-style text for list rows. */
export function ago(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) {
    return 'never';
  }
  const t = new Date(iso).getTime();
  if (isNaN(t)) {
    return iso;
  }
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) {
    return `${s}s ago`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m ago`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)}h ago`;
  }
  return `${Math.floor(s / 86400)}d ago`;
}
