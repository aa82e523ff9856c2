/**
 * The execution view's model: durations, node trees, timeline rows, value refs,
 * task summaries, resource use and the poller that follows a live execution.
 * Framework-free: the React view renders what these functions return.
 */
import { Poll } from '@lumino/polling';

import type { Attempt, Execution, NodeExecution } from '../api/client';
import { describeType } from '../api/literals';
import { formatDuration, shortName } from '../format';
import { isTerminal } from '../phases';

/** A node execution; `entity_version` arrives with a newer backend. */
export type NodeRun = NodeExecution & { entity_version?: string | null };

// ------------------------------------------------------------------ time

/** Milliseconds since the epoch; timestamps without a zone are UTC (as the backend writes them). */
export function parseTime(iso: string | null | undefined): number | null {
  if (!iso) {
    return null;
  }
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`;
  const t = Date.parse(zoned);
  return isNaN(t) ? null : t;
}

/** Seconds from start to end, or to `now` while it runs; null before it starts. */
export function elapsed(
  start: string | null | undefined,
  end: string | null | undefined,
  now: number = Date.now()
): number | null {
  const s = parseTime(start);
  if (s === null) {
    return null;
  }
  const e = parseTime(end) ?? now;
  return Math.max(0, (e - s) / 1000);
}

/** An execution's duration: live while it runs, fixed once it ended. */
export function executionDuration(execution: Execution, now: number = Date.now()): number | null {
  if (execution.started_at && !execution.ended_at && isTerminal(execution.phase)) {
    return execution.duration_s ?? null;
  }
  return elapsed(execution.started_at, execution.ended_at, now);
}

// ------------------------------------------------------------------ node tree

export interface TreeRow {
  node: NodeRun;
  depth: number;
  /** Paths of the parents, outermost first. */
  ancestors: string[];
  childCount: number;
}

/**
 * Nodes in display order: each parent followed by its children (by
 * `parent_path`), otherwise in the order the API gave (the order they started).
 */
export function nodeTree(nodes: readonly NodeRun[]): TreeRow[] {
  const byPath = new Map(nodes.map(n => [n.path, n]));
  const children = new Map<string, NodeRun[]>();
  const roots: NodeRun[] = [];
  for (const n of nodes) {
    if (n.parent_path && n.parent_path !== n.path && byPath.has(n.parent_path)) {
      const list = children.get(n.parent_path) ?? [];
      list.push(n);
      children.set(n.parent_path, list);
    } else {
      roots.push(n);
    }
  }
  const out: TreeRow[] = [];
  const seen = new Set<string>();
  const visit = (n: NodeRun, ancestors: string[]) => {
    if (seen.has(n.path)) {
      return;
    }
    seen.add(n.path);
    const kids = children.get(n.path) ?? [];
    out.push({ node: n, depth: ancestors.length, ancestors, childCount: kids.length });
    for (const k of kids) {
      visit(k, [...ancestors, n.path]);
    }
  };
  roots.forEach(n => visit(n, []));
  return out;
}

/** Groups with more children than this start collapsed (big map tasks). */
export const COLLAPSE_ABOVE = 20;

/** Rows whose ancestors are all expanded; `toggled` flips a parent's default. */
export function visibleRows(rows: readonly TreeRow[], toggled: ReadonlySet<string>): TreeRow[] {
  const open = (row: TreeRow) => (row.childCount <= COLLAPSE_ABOVE) !== toggled.has(row.node.path);
  const openByPath = new Map(rows.map(r => [r.node.path, open(r)]));
  return rows.filter(r => r.ancestors.every(a => openByPath.get(a) !== false));
}

export function isExpanded(row: TreeRow, toggled: ReadonlySet<string>): boolean {
  return (row.childCount <= COLLAPSE_ABOVE) !== toggled.has(row.node.path);
}

/**
 * Parents to open so that the row of `path` shows: `toggled` with each closed
 * ancestor flipped, or `toggled` itself when every ancestor is open already.
 */
export function revealPath(rows: readonly TreeRow[], toggled: ReadonlySet<string>, path: string): ReadonlySet<string> {
  const row = rows.find(r => r.node.path === path);
  const byPath = new Map(rows.map(r => [r.node.path, r]));
  const closed = (row?.ancestors ?? []).filter(a => {
    const parent = byPath.get(a);
    return parent !== undefined && !isExpanded(parent, toggled);
  });
  if (closed.length === 0) {
    return toggled;
  }
  const next = new Set(toggled);
  for (const a of closed) {
    if (!next.delete(a)) {
      next.add(a);
    }
  }
  return next;
}

/** Phases in which a node failed, as opposed to being stopped, skipped or cached. */
const FAILED_PHASES = new Set(['FAILED', 'TIMED_OUT']);

/**
 * The node a failed execution opens on: the one its error names (the backend
 * names the innermost failing node: inside a subworkflow the child, not the
 * subworkflow), else the first failed node in display order with no failed node
 * under it. Null while the execution has not failed.
 */
export function failedNodePath(
  execution: Pick<Execution, 'phase' | 'error'>,
  nodes: readonly NodeRun[]
): string | null {
  if (!FAILED_PHASES.has(execution.phase)) {
    return null;
  }
  const named = execution.error?.node;
  if (typeof named === 'string' && nodes.some(n => n.path === named)) {
    return named;
  }
  const failed = nodeTree(nodes).filter(r => FAILED_PHASES.has(r.node.phase));
  const innermost = failed.find(r => !failed.some(o => o.ancestors.includes(r.node.path)));
  return innermost?.node.path ?? null;
}

/**
 * What a node is called where rows are named by task: the short name of its
 * task or workflow (`pipeline.clean` → `clean`, a map batch keeps its range:
 * `clean[0..9]`), else its path (branches and gates have no entity).
 */
export function nodeTitle(node: Pick<NodeRun, 'path' | 'entity_name'>): string {
  if (!node.entity_name) {
    return node.path;
  }
  const [, base, range] = node.entity_name.match(/^(.*?)(\[[^\]]*\])?$/) ?? [];
  return `${shortName(base ?? node.entity_name)}${range ?? ''}`;
}

/** The task a node ran, for `tasks/{name}`: none for workflows, branches and gates. */
export function taskNameOf(node: NodeRun): string | null {
  if (!node.entity_name || ['workflow', 'launch_plan', 'branch', 'gate'].includes(node.kind ?? '')) {
    return null;
  }
  // Batches of map items are named `task[0..9]`.
  return node.entity_name.replace(/\[\d+\.\.\d+\]$/, '');
}

/** The live phase of every node, for the DAG view. */
export function phaseByPath(nodes: readonly NodeRun[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of nodes) {
    out[n.path] = n.phase;
  }
  return out;
}

// ------------------------------------------------------------------ timeline

export interface TimelineRow {
  path: string;
  depth: number;
  phase: string;
  /** Seconds from the execution's start; null while the node has not started. */
  start: number | null;
  end: number | null;
  /** Still running: the bar ends at now. */
  running: boolean;
  duration: number | null;
  /** The short name of the node's task (`nodeTitle`), which names its row. */
  title: string;
  /** "<task> (<node>): <phase>, <duration>", the bar's accessible name. */
  label: string;
}

export interface Timeline {
  rows: TimelineRow[];
  /** Seconds the axis covers. */
  span: number;
  ticks: number[];
}

/** Bars per node relative to the execution's start; running bars reach `now`. */
export function timeline(
  execution: Pick<Execution, 'started_at' | 'created_at' | 'ended_at'>,
  rows: readonly TreeRow[],
  now: number = Date.now()
): Timeline {
  const starts = rows.map(r => parseTime(r.node.started_at)).filter((t): t is number => t !== null);
  const origin =
    parseTime(execution.started_at) ??
    (starts.length ? Math.min(...starts) : null) ??
    parseTime(execution.created_at) ??
    now;
  const execEnd = parseTime(execution.ended_at);
  let span = execEnd !== null ? (execEnd - origin) / 1000 : 0;
  const out = rows.map(({ node, depth }): TimelineRow => {
    const s = parseTime(node.started_at);
    const ended = parseTime(node.ended_at);
    const running = s !== null && ended === null && !isTerminal(node.phase);
    const e = ended ?? (running ? now : s);
    const start = s === null ? null : Math.max(0, (s - origin) / 1000);
    const end = e === null ? null : Math.max(start ?? 0, (e - origin) / 1000);
    const duration = start === null || end === null ? null : end - start;
    span = Math.max(span, end ?? 0);
    const title = nodeTitle(node);
    return {
      path: node.path,
      title,
      depth,
      phase: node.phase,
      start,
      end,
      running,
      duration,
      label: `${title === node.path ? title : `${title} (${node.path})`}: ${node.phase}, ${formatDuration(duration)}`
    };
  });
  if (execEnd === null && starts.length) {
    span = Math.max(span, (now - origin) / 1000);
  }
  span = Math.max(span, 1);
  const ticks = axisTicks(span);
  return { rows: out, span: Math.max(span, ticks[ticks.length - 1]), ticks };
}

/** About `count` round tick values from 0 covering `span` seconds. */
export function axisTicks(span: number, count = 6): number[] {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];
  const raw = span / Math.max(1, count - 1);
  const step = steps.find(s => s >= raw) ?? Math.ceil(raw / 86400) * 86400;
  const ticks: number[] = [];
  for (let t = 0; t < span + step; t += step) {
    ticks.push(t);
    if (t >= span) {
      break;
    }
  }
  return ticks;
}

/** An axis label: `0`, `30s`, `2m`, `1m30s`, `1h`. */
export function formatTick(seconds: number): string {
  if (seconds === 0) {
    return '0';
  }
  if (seconds < 60) {
    return `${seconds}s`;
  }
  if (seconds < 3600) {
    const m = Math.floor(seconds / 60);
    const s = seconds % 60;
    return s ? `${m}m${s}s` : `${m}m`;
  }
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return m ? `${h}h${m}m` : `${h}h`;
}

// ------------------------------------------------------------------ values

/** How to show a value ref (`{literal}`, `{uri, format, preview}`, `{collection}`, `{mapping}`). */
export type ValueView =
  | { kind: 'literal'; text: string; multiline: boolean }
  | { kind: 'offloaded'; uri: string; format: string; preview: string; hash?: string; path?: unknown[] }
  | { kind: 'list'; items: ValueView[] }
  | { kind: 'mapping'; entries: Array<[string, ValueView]> }
  | { kind: 'unknown'; text: string };

const INLINE_WIDTH = 60;
const TAGS = ['__datetime__', '__date__', '__duration__', '__bytes__'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function tagOf(v: unknown): [string, unknown] | null {
  if (isRecord(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && TAGS.includes(keys[0])) {
      return [keys[0], v[keys[0]]];
    }
  }
  return null;
}

/** Tagged literals (datetimes, durations, bytes) as people read them. */
function plain(lit: unknown): unknown {
  const tag = tagOf(lit);
  if (tag) {
    const [key, raw] = tag;
    if (key === '__duration__' && typeof raw === 'number') {
      return `${raw} s`;
    }
    if (key === '__bytes__' && typeof raw === 'string') {
      return `<${raw.length / 2} bytes>`;
    }
    return raw;
  }
  if (Array.isArray(lit)) {
    return lit.map(plain);
  }
  if (isRecord(lit)) {
    return Object.fromEntries(Object.entries(lit).map(([k, v]) => [k, plain(v)]));
  }
  return lit;
}

/** A JSON literal as text: compact when short, indented when not. */
export function literalText(lit: unknown): { text: string; multiline: boolean } {
  const tag = tagOf(lit);
  if (tag && typeof plain(lit) === 'string') {
    return { text: plain(lit) as string, multiline: false };
  }
  const value = plain(lit);
  const compact = JSON.stringify(value) ?? 'null';
  if (compact.length <= INLINE_WIDTH) {
    return { text: compact, multiline: false };
  }
  return { text: JSON.stringify(value, null, 2), multiline: true };
}

function navigate(value: unknown, path: unknown): unknown {
  let v = value;
  for (const step of Array.isArray(path) ? path : []) {
    v = (v as Record<string, unknown> | null)?.[step];
  }
  return v;
}

export function valueView(ref: unknown): ValueView {
  if (!isRecord(ref)) {
    return { kind: 'unknown', text: JSON.stringify(ref) ?? String(ref) };
  }
  if ('literal' in ref) {
    return { kind: 'literal', ...literalText(navigate(ref.literal, ref.path)) };
  }
  if (typeof ref.uri === 'string') {
    return {
      kind: 'offloaded',
      uri: ref.uri,
      format: typeof ref.format === 'string' ? ref.format : 'pickle',
      preview: typeof ref.preview === 'string' ? ref.preview : '',
      hash: typeof ref.hash === 'string' ? ref.hash : undefined,
      path: Array.isArray(ref.path) && ref.path.length ? ref.path : undefined
    };
  }
  if (Array.isArray(ref.collection)) {
    return { kind: 'list', items: ref.collection.map(valueView) };
  }
  if (isRecord(ref.mapping)) {
    return { kind: 'mapping', entries: Object.entries(ref.mapping).map(([k, v]) => [k, valueView(v)]) };
  }
  return { kind: 'unknown', text: JSON.stringify(ref) };
}

/** Named values in a stable order; null when there are none yet. */
export function namedValues(values: Record<string, unknown> | null | undefined): Array<[string, ValueView]> | null {
  if (!values) {
    return null;
  }
  return Object.entries(values).map(([k, v]) => [k, valueView(v)]);
}

/**
 * Where long values are cut in the panels (a "Show all" shows the rest): text
 * past `lines` lines or `chars` characters, collections past `items` items.
 */
export const SHORTEN = { chars: 500, lines: 12, items: 20 };

export interface ShortText {
  /** The start of the text, at most `lines` lines and `chars` characters. */
  head: string;
  /** What the head leaves out: `1,234 more lines`, `4,500 more characters`. */
  hidden: string;
}

/** The start of a long text and what it leaves out; null when the text is short enough to show whole. */
export function shortenText(text: string, limits: { chars: number; lines: number } = SHORTEN): ShortText | null {
  let head = text;
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    lines += 1;
    if (lines === limits.lines + 1) {
      head = text.slice(0, i);
    }
  }
  if (head.length > limits.chars) {
    head = head.slice(0, limits.chars);
  }
  if (head.length === text.length) {
    return null;
  }
  const shown = head.split('\n').length;
  const hidden =
    lines > shown ? `${(lines - shown).toLocaleString('en-US')} more ${lines - shown === 1 ? 'line' : 'lines'}`
      : `${(text.length - head.length).toLocaleString('en-US')} more characters`;
  return { head, hidden };
}

/**
 * A name, version or id cut after each `.`, `-`, `/`, `@` and `_`: the places
 * where it may wrap (`flows.train @ v7` → `flows.`, `train @`, ` v7`).
 */
export function wrapPoints(text: string): string[] {
  return text.split(/(?<=[.\-/@_])(?=.)/);
}

/** Bytes as `812 B`, `3.4 KiB`, `12.0 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) {
    return `${n} B`;
  }
  if (n < 1024 * 1024) {
    return `${(n / 1024).toFixed(1)} KiB`;
  }
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Text of loaded bytes when they read as UTF-8 text, else null (a pickle). */
export function bytesAsText(bytes: Uint8Array, limit = 64 * 1024): string | null {
  const head = bytes.subarray(0, limit);
  if (head.includes(0)) {
    return null;
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(head);
    return bytes.length > limit ? `${text}\n… (${formatBytes(bytes.length)} in all)` : text;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ errors

export interface ErrorView {
  kind: string | null;
  type: string | null;
  message: string;
  /** The user's frames only (the backend folds plait's away), or every frame when none is the user's. */
  traceback: string | null;
  /** Every frame, plait's included: present only when `traceback` leaves `foldedFrames` of them out. */
  fullTraceback: string | null;
  foldedFrames: number;
}

/** An error JSON (`{kind, type, message, traceback, full_traceback, folded_frames}`) as its parts. */
export function errorView(error: Record<string, unknown> | null | undefined): ErrorView | null {
  if (!error) {
    return null;
  }
  const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
  return {
    kind: str(error.kind),
    type: str(error.type),
    message: str(error.message) ?? JSON.stringify(error),
    traceback: str(error.traceback),
    fullTraceback: str(error.full_traceback),
    foldedFrames: typeof error.folded_frames === 'number' ? error.folded_frames : 0
  };
}

// ------------------------------------------------------------------ resources

/** CPU use in cores: `0.85 cores`, `1 core`. */
export function formatCores(cores: number | null | undefined): string {
  if (cores == null || !isFinite(cores)) {
    return '—';
  }
  const text = cores >= 10 ? cores.toFixed(1) : cores.toFixed(2);
  const trimmed = text.replace(/\.?0+$/, '') || '0';
  return `${trimmed} ${trimmed === '1' ? 'core' : 'cores'}`;
}

/** Memory in bytes as MiB: `123.4 MiB`. */
export function formatMiB(bytes: number | null | undefined): string {
  if (bytes == null || !isFinite(bytes)) {
    return '—';
  }
  const mib = bytes / (1024 * 1024);
  return `${mib.toLocaleString('en-US', { maximumFractionDigits: mib < 10 ? 1 : 0 })} MiB`;
}

export interface UsageRow {
  attempt: number;
  cpuAvg: string;
  cpuPeak: string;
  memAvg: string;
  memPeak: string;
}

export function usageRows(attempts: readonly Attempt[]): UsageRow[] {
  return attempts
    .filter(a => a.cpu_avg != null || a.cpu_peak != null || a.mem_avg != null || a.mem_peak != null)
    .map(a => ({
      attempt: a.number,
      cpuAvg: formatCores(a.cpu_avg),
      cpuPeak: formatCores(a.cpu_peak),
      memAvg: formatMiB(a.mem_avg),
      memPeak: formatMiB(a.mem_peak)
    }));
}

// ------------------------------------------------------------------ task definitions

function quantities(res: unknown): string | null {
  if (!isRecord(res)) {
    return null;
  }
  const parts = Object.entries(res)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k === 'ephemeral_storage' ? 'storage' : k} ${v}`);
  return parts.length ? parts.join(', ') : null;
}

function imageText(image: unknown): string | null {
  if (typeof image === 'string') {
    return image;
  }
  if (isRecord(image)) {
    const name = `${image.registry ? `${image.registry}/` : ''}${image.name ?? 'image'}`;
    const packages = Array.isArray(image.packages) && image.packages.length ? ` + ${image.packages.join(', ')}` : '';
    return `${name} (ImageSpec${packages})`;
  }
  return null;
}

function cacheText(cache: unknown): string {
  if (!isRecord(cache)) {
    return cache ? String(cache) : 'off';
  }
  const version = cache.version || cache.resolved_version;
  const parts = [version ? `version ${version}` : 'on'];
  if (cache.serialize) {
    parts.push('serialized');
  }
  if (Array.isArray(cache.ignored_inputs) && cache.ignored_inputs.length) {
    parts.push(`ignores ${cache.ignored_inputs.join(', ')}`);
  }
  return parts.join(', ');
}

/**
 * A task spec (`Entity.spec` of a task) as label/value pairs: interface,
 * resources, retries, timeout, cache, image. Unset settings are left out.
 */
export function taskSummary(spec: Record<string, unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const iface = isRecord(spec.interface) ? spec.interface : {};
  const inputs = isRecord(iface.inputs) ? iface.inputs : {};
  const outputs = isRecord(iface.outputs) ? iface.outputs : {};
  const settings = isRecord(spec.settings) ? spec.settings : {};
  const sig = Object.entries(inputs)
    .map(([k, v]) => {
      const entry = isRecord(v) ? v : {};
      const dflt = entry.required === false ? ` = ${JSON.stringify(entry.default ?? null)}` : '';
      return `${k}: ${describeType(entry.type)}${dflt}`;
    })
    .join(', ');
  const outs = Object.entries(outputs).map(([k, v]) => `${k}: ${describeType(v)}`);
  if (spec.task_type) {
    out.push(['Type', String(spec.task_type)]);
  }
  out.push(['Inputs', sig || 'none']);
  out.push(['Outputs', outs.join(', ') || 'none']);
  const requests = quantities(settings.requests);
  const limits = quantities(settings.limits);
  if (requests) {
    out.push(['Requests', requests]);
  }
  if (limits) {
    out.push(['Limits', limits]);
  }
  if (isRecord(settings.accelerator) && settings.accelerator.device) {
    out.push(['Accelerator', String(settings.accelerator.device)]);
  }
  out.push(['Retries', String(settings.retries ?? 0)]);
  out.push(['Timeout', typeof settings.timeout === 'number' ? formatDuration(settings.timeout) : 'none']);
  out.push(['Cache', cacheText(settings.cache)]);
  const image = imageText(settings.container_image);
  if (image) {
    out.push(['Image', image]);
  }
  if (settings.interruptible != null) {
    out.push(['Interruptible', settings.interruptible ? 'yes' : 'no']);
  }
  if (isRecord(settings.environment) && Object.keys(settings.environment).length) {
    out.push(['Environment', Object.keys(settings.environment).join(', ')]);
  }
  return out;
}

// ------------------------------------------------------------------ logs

/** Keep at most this many characters of a log in the view (the tail). */
export const LOG_CAP = 2_000_000;

export interface LogText {
  text: string;
  /** Characters dropped from the head to stay under the cap. */
  dropped: number;
}

export function appendLog(log: LogText, more: string, cap: number = LOG_CAP): LogText {
  const text = log.text + more;
  if (text.length <= cap) {
    return { text, dropped: log.dropped };
  }
  const cut = text.length - cap;
  return { text: text.slice(cut), dropped: log.dropped + cut };
}

// ------------------------------------------------------------------ polling

/** Base interval and ceiling of every poll here, in ms (tests shorten them). */
export const pollTiming = { interval: 1000, max: 15000 };

export interface FollowOptions<T> {
  name: string;
  fetch: () => Promise<T>;
  onData: (value: T) => void;
  /** True once nothing more will change (a terminal phase, a complete log). */
  done: (value: T) => boolean;
  /** Changes when the value does; while it stays the same the poll backs off. */
  key?: (value: T) => string;
  onError?: (error: unknown) => void;
  /** Also stand by while this says so (a widget in a background tab). */
  hidden?: () => boolean;
}

export interface Follower {
  /** Poll now (after an action such as abort). */
  refresh(): void;
  dispose(): void;
}

/**
 * Fetch at once, then again with backoff (while nothing changes, and on
 * errors), standing by while the page is hidden, and stop once `done`.
 */
export function follow<T>(options: FollowOptions<T>): Follower {
  const { interval, max } = pollTiming;
  let lastKey: string | undefined;
  const poll: Poll = new Poll({
    name: options.name,
    frequency: { interval, backoff: true, max },
    standby: () => (options.hidden?.() ? true : 'when-hidden'),
    factory: async () => {
      let value: T;
      try {
        value = await options.fetch();
      } catch (error) {
        if (!poll.isDisposed) {
          options.onError?.(error);
        }
        throw error;
      }
      if (poll.isDisposed) {
        return;
      }
      options.onData(value);
      if (options.done(value)) {
        void poll.stop();
        return;
      }
      const key = options.key?.(value);
      const same = key !== undefined && key === lastKey;
      lastKey = key;
      const next = same ? Math.min(max, Math.round(poll.frequency.interval * 1.5)) : interval;
      poll.frequency = { ...poll.frequency, interval: next };
    }
  });
  return {
    refresh: () => {
      poll.frequency = { ...poll.frequency, interval };
      void poll.refresh();
    },
    dispose: () => poll.dispose()
  };
}

/**
 * Whether an element is out of sight: in a hidden Lumino widget (a background
 * tab) or under `display: none`. False while it is not in the document yet.
 */
export function isHiddenElement(el: Element | null): boolean {
  if (!el || !el.isConnected) {
    return false;
  }
  if (typeof el.checkVisibility === 'function') {
    return !el.checkVisibility();
  }
  return el.closest('.lm-mod-hidden') !== null;
}

/** What changes in an execution and its nodes, for `follow`'s backoff. */
export function progressKey(execution: Execution, nodes: readonly NodeRun[]): string {
  return JSON.stringify([
    execution.phase,
    execution.abort_requested,
    nodes.map(n => [n.path, n.phase, n.attempts.length, n.attempts[n.attempts.length - 1]?.phase])
  ]);
}
