/**
 * How the panels write names, times and durations: one home for each formatter.
 * Framework-free: no DOM, no React.
 */

/** The last dotted part of an entity name: `examples.regression.predict` → `predict`. */
export function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/**
 * A duration to read in tables and headers: `250 ms`, `4.2 s`, `42 s`, `5m 0s`, `1h 30m`; `—` when
 * unknown. The CLI and the notebook write it the same way (`plait.model.times.duration_text`; both
 * test suites check `test/fixtures/durations.json`). Each unit is chosen after rounding, so 59.6 s
 * reads `1m 0s`, never `60 s` or `0m 60s`.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !isFinite(seconds)) {
    return '—';
  }
  const s = Math.max(seconds, 0);
  const ms = Math.round(s * 1000);
  if (ms < 1000) {
    return `${ms} ms`;
  }
  if (Math.round(s * 10) / 10 < 10) {
    return `${s.toFixed(1)} s`;
  }
  const whole = Math.round(s);
  if (whole < 60) {
    return `${whole} s`;
  }
  const m = Math.floor(whole / 60);
  if (m < 60) {
    return `${m}m ${whole % 60}s`;
  }
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/**
 * A duration as the launch form writes it into a duration field, in the
 * units its `parseDuration` reads back: `300` → `5m`, `5400` → `1h30m`,
 * `1.5` → `1.5s`.
 */
export function durationFieldText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    return String(seconds);
  }
  if (!Number.isInteger(seconds)) {
    return `${seconds}s`;
  }
  if (seconds === 0) {
    return '0s';
  }
  let rest = seconds;
  let out = '';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

// One formatter for every row: `toLocaleString()` builds a new one per call.
let dateTime: Intl.DateTimeFormat | null = null;

/**
 * A timestamp in the reader's locale and time zone, the zone named (short date, time with seconds,
 * `12/6/26, 10:00:01 AM UTC`), as the CLI names its zone; `—` when there is none.
 */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) {
    return '—';
  }
  const d = new Date(iso);
  if (isNaN(d.getTime())) {
    return iso;
  }
  dateTime ??= new Intl.DateTimeFormat(undefined, {
    year: '2-digit',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short'
  });
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
