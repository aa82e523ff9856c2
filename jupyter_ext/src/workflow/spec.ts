/**
 * What an entity page shows of a spec, read without the DOM: the interface as
 * rows, the docstring, and a task's run settings as label/value pairs.
 *
 * Specs are those of `plait.model.specs` (a task's `settings` as
 * `TaskSettings.to_spec` writes them); a field a spec leaves out reads as not
 * set, so an older spec still renders.
 */
import { describeType } from '../api/literals';
import { formatDuration } from '../format';

export interface InputRow {
  name: string;
  /** The type as Python spells it: `list[int]`, `Optional[str]`. */
  type: string;
  /** What applies when a launch leaves the input out: `required`, or the default as JSON. */
  default: string;
  /** A launch plan fixes the value: a launch cannot change it. */
  fixed: boolean;
}

export interface OutputRow {
  name: string;
  type: string;
}

export interface SettingRow {
  label: string;
  value: string;
  /** The setting is at plait's default (no retries, no cache, ...): shown muted. */
  unset?: boolean;
}

type Spec = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function json(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** A value as JSON, a whole float as Python writes it (`1.0`, not `1`). */
function literal(type: unknown, value: unknown): string {
  const isFloat = isObject(type) && type.kind === 'float';
  return isFloat && typeof value === 'number' && Number.isInteger(value) ? value.toFixed(1) : json(value);
}

/** The inputs of the spec's interface, in order; a launch plan's defaults and fixed inputs win. */
export function inputRows(spec: Spec): InputRow[] {
  const iface = isObject(spec.interface) ? spec.interface : {};
  const inputs = isObject(iface.inputs) ? iface.inputs : {};
  const planDefaults = isObject(spec.default_inputs) ? spec.default_inputs : {};
  const fixed = isObject(spec.fixed_inputs) ? spec.fixed_inputs : {};
  return Object.entries(inputs).map(([name, raw]) => {
    const input = isObject(raw) ? raw : {};
    let value = input.required === false ? literal(input.type, input.default ?? null) : 'required';
    if (name in planDefaults) {
      value = literal(input.type, planDefaults[name]);
    }
    if (name in fixed) {
      value = literal(input.type, fixed[name]);
    }
    return { name, type: describeType(input.type), default: value, fixed: name in fixed };
  });
}

/** The outputs of the spec's interface, in order. */
export function outputRows(spec: Spec): OutputRow[] {
  const iface = isObject(spec.interface) ? spec.interface : {};
  const outputs = isObject(iface.outputs) ? iface.outputs : {};
  return Object.entries(outputs).map(([name, type]) => ({ name, type: describeType(type) }));
}

/** The docstring as the function has it (`docs.long`), else its first line; '' when there is none. */
export function docstring(spec: Spec): string {
  const docs = isObject(spec.docs) ? spec.docs : {};
  const text = typeof docs.long === 'string' && docs.long ? docs.long : docs.short;
  return typeof text === 'string' ? text.trim() : '';
}

/** `cpu 2 · mem 4Gi`, from a Resources spec; '' when nothing is set. */
export function formatResources(resources: unknown): string {
  if (!isObject(resources)) {
    return '';
  }
  return Object.entries(resources)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k} ${typeof v === 'object' ? json(v) : String(v)}`)
    .join(' · ');
}

function formatCache(cache: unknown): SettingRow {
  if (!isObject(cache)) {
    return { label: 'Cache', value: 'off', unset: true };
  }
  const version = cache.resolved_version || cache.version;
  const parts = [version ? `on, version ${String(version)}` : 'on'];
  if (cache.serialize) {
    parts.push('serialized');
  }
  const ignored = Array.isArray(cache.ignored_inputs) ? cache.ignored_inputs : [];
  if (ignored.length) {
    parts.push(`ignores ${ignored.join(', ')}`);
  }
  return { label: 'Cache', value: parts.join(', ') };
}

/**
 * A task's run settings: retries, cache, timeout, requests and limits always
 * (saying when they are not set), then what else the task sets (accelerator,
 * image, environment, secrets, environment variables, interruptible).
 */
export function taskSettingRows(spec: Spec): SettingRow[] {
  const settings = isObject(spec.settings) ? spec.settings : {};
  const retries = typeof settings.retries === 'number' ? settings.retries : 0;
  const timeout = typeof settings.timeout === 'number' ? settings.timeout : null;
  const requests = formatResources(settings.requests);
  const limits = formatResources(settings.limits);
  const rows: SettingRow[] = [
    retries
      ? { label: 'Retries', value: `${retries} (${retries + 1} attempts in all)` }
      : { label: 'Retries', value: 'none', unset: true },
    formatCache(settings.cache),
    timeout ? { label: 'Timeout', value: formatDuration(timeout) } : { label: 'Timeout', value: 'none', unset: true },
    requests ? { label: 'Requests', value: requests } : { label: 'Requests', value: 'not set', unset: true },
    limits ? { label: 'Limits', value: limits } : { label: 'Limits', value: 'not set', unset: true }
  ];
  const accelerator = settings.accelerator;
  if (accelerator) {
    rows.push({ label: 'Accelerator', value: typeof accelerator === 'string' ? accelerator : json(accelerator) });
  }
  if (settings.container_image) {
    rows.push({ label: 'Image', value: String(settings.container_image) });
  }
  if (typeof spec.environment_name === 'string' && spec.environment_name) {
    rows.push({ label: 'Environment', value: spec.environment_name });
  }
  const secrets = Array.isArray(settings.secret_requests) ? settings.secret_requests : [];
  if (secrets.length) {
    const names = secrets.map(s =>
      isObject(s) ? [s.group, s.key].filter(part => typeof part === 'string' && part).join('/') || json(s) : String(s)
    );
    rows.push({ label: 'Secrets', value: names.join(', ') });
  }
  const envs = isObject(settings.environment) ? Object.keys(settings.environment) : [];
  if (envs.length) {
    rows.push({ label: 'Environment variables', value: envs.join(', ') });
  }
  if (typeof settings.interruptible === 'boolean') {
    rows.push({ label: 'Interruptible', value: settings.interruptible ? 'yes' : 'no' });
  }
  return rows;
}
