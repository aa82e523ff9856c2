/**
 * The launch form's model: fields from an interface, text to literals, the request body.
 *
 * Framework-free (no DOM, no React): the form renders `InputField`s and keeps
 * one text per field; this module turns the texts into the JSON literals that
 * `ExecutionCreate.inputs` takes (as `plait.typesys.to_literal` writes them)
 * and says, per field, what is wrong: `x expects list[int]: item 2 is "a",
 * not an integer`.
 *
 * Inputs come from four places, later ones winning, as on the server: the
 * interface's defaults, the launch plan's default inputs, the form, the launch
 * plan's fixed inputs (shown locked and never sent). A field whose text is
 * still its default is not sent, so the server applies the default exactly.
 */
import type { EntityKind, ExecutionCreate } from '../api/client';
import {
  TypeSpec,
  checkLiteral,
  describeType,
  describeValue,
  enumValues,
  isIsoDate,
  isIsoDateTime,
  isTypeSpec
} from '../api/literals';
import { durationFieldText } from '../format';
import { SETTING_KEYS, SettingsDraft, readSettings } from './settings';

/** How a field is edited. */
export type FieldKind =
  | 'integer'
  | 'float'
  | 'text'
  | 'checkbox'
  | 'select'
  | 'datetime'
  | 'date'
  | 'duration'
  | 'bytes'
  | 'uri'
  | 'json'
  | 'unsupported';

export interface SelectOption {
  label: string;
  /** The option's text in the form: the value's JSON, or '' for None / no choice. */
  value: string;
}

export interface InputField {
  name: string;
  type: TypeSpec;
  /** The type as Python spells it: `list[int]`, `Optional[str]`. */
  typeName: string;
  kind: FieldKind;
  /** The user must give a value: there is no default and None is not allowed. */
  required: boolean;
  /** None is a valid value; an empty text sends null. */
  nullable: boolean;
  /** The text the field starts with (its default, written for its kind). */
  initial: string;
  /** The default that applies when the field is left as it is, and where it comes from. */
  default?: { value: unknown; from: 'interface' | 'launch_plan' };
  /** Set by the launch plan; shown locked and not sent. */
  fixed?: { value: unknown; launchPlan: string };
  /** For `select` fields. */
  options?: SelectOption[];
  placeholder?: string;
  /** A line under the field: the format expected, or why there is no default shown. */
  hint?: string;
}

/** The parts of a launch plan spec the form uses (see `plait.sdk.launch_plan.LaunchPlan.to_spec`). */
export interface LaunchPlanInfo {
  name: string;
  version: string;
  /** Name of the workflow it launches. */
  workflow: string;
  defaultInputs: Record<string, unknown>;
  fixedInputs: Record<string, unknown>;
  maxParallelism: number | null;
  overwriteCache: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** `raw_output_data_config.output_location_prefix`, if the plan sets one. */
  rawOutputPrefix: string | null;
}

/** An entity's interface inputs, as specs write them. */
export type InterfaceInputs = Record<string, { type: unknown; required?: boolean; default?: unknown }>;

const UNREPRESENTABLE = '__unrepresentable__';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isArtifactQuery(value: unknown): boolean {
  return isObject(value) && Object.keys(value).length === 1 && 'artifact_query' in value;
}

function isUnrepresentable(value: unknown): boolean {
  return isObject(value) && UNREPRESENTABLE in value;
}

/** The inputs of a spec's interface (`spec.interface.inputs`); {} when there are none. */
export function interfaceInputs(spec: Record<string, unknown>): InterfaceInputs {
  const iface = spec.interface;
  if (isObject(iface) && isObject(iface.inputs)) {
    return iface.inputs as InterfaceInputs;
  }
  return {};
}

function textValues(block: unknown): Record<string, string> {
  const inner = isObject(block) && isObject(block.values) ? block.values : block;
  if (!isObject(inner)) {
    return {};
  }
  return Object.fromEntries(Object.entries(inner).map(([k, v]) => [k, String(v)]));
}

/** A launch plan's spec, read. */
export function launchPlanInfo(spec: Record<string, unknown>, version?: string): LaunchPlanInfo {
  const reference = isObject(spec.reference) ? spec.reference : {};
  const maxParallelism = spec.max_parallelism;
  const raw = isObject(spec.raw_output_data_config) ? spec.raw_output_data_config.output_location_prefix : null;
  return {
    name: String(spec.name ?? ''),
    version: version ?? String(spec.version ?? ''),
    workflow: String(spec.workflow || reference.name || ''),
    defaultInputs: isObject(spec.default_inputs) ? spec.default_inputs : {},
    fixedInputs: isObject(spec.fixed_inputs) ? spec.fixed_inputs : {},
    maxParallelism: typeof maxParallelism === 'number' ? maxParallelism : null,
    overwriteCache: spec.overwrite_cache === true,
    labels: textValues(spec.labels),
    annotations: textValues(spec.annotations),
    rawOutputPrefix: typeof raw === 'string' && raw ? raw : null
  };
}

// ------------------------------------------------------------------ fields

function kindOf(type: TypeSpec): FieldKind {
  switch (type.kind) {
    case 'integer':
      return 'integer';
    case 'float':
      return 'float';
    case 'string':
      return 'text';
    case 'boolean':
      return 'checkbox';
    case 'enum':
      return 'select';
    case 'datetime':
      return 'datetime';
    case 'date':
      return 'date';
    case 'duration':
      return 'duration';
    case 'bytes':
      return 'bytes';
    case 'file':
    case 'directory':
    case 'dataframe':
      return 'uri';
    case 'pickle':
      return type.name ? 'unsupported' : 'json';
    default:
      return 'json';
  }
}

const PLACEHOLDERS: Partial<Record<FieldKind, string>> = {
  datetime: '2024-05-01T12:00:00',
  date: '2024-05-01',
  duration: '1h30m',
  bytes: '00ff',
  uri: 's3://bucket/path'
};

const HINTS: Partial<Record<FieldKind, string>> = {
  datetime: 'ISO 8601 date and time, e.g. 2024-05-01T12:00:00 or 2024-05-01T12:00:00+00:00',
  date: 'ISO 8601 date, e.g. 2024-05-01',
  duration: 'Seconds, or e.g. 90s, 5m, 1h30m, 2d, or 01:30:00',
  bytes: 'Hexadecimal, e.g. 00ff',
  json: 'JSON'
};

function jsonExample(type: TypeSpec): string {
  switch (type.kind) {
    case 'list':
      return '[...]';
    case 'tuple':
    case 'namedtuple':
      return type.kind === 'tuple' ? '[...]' : '{...} or [...]';
    case 'dict':
    case 'dataclass':
      return '{...}';
    default:
      return '';
  }
}

/** The text a field shows for a literal (a default or a fixed value). */
export function formatLiteral(kind: FieldKind, value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  switch (kind) {
    case 'integer':
      return typeof value === 'number' ? String(value) : JSON.stringify(value);
    case 'float': // JSON reads 1.0 as 1; show it as a float
      return typeof value === 'number' ? (Number.isInteger(value) ? value.toFixed(1) : String(value)) : JSON.stringify(value);
    case 'text':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'checkbox':
      return value === true ? 'true' : 'false';
    case 'select':
      return JSON.stringify(value);
    case 'datetime':
    case 'date':
    case 'duration':
    case 'bytes': {
      let raw: unknown = value;
      if (isObject(value) && Object.keys(value).length === 1) {
        raw = Object.values(value)[0];
      }
      if (kind === 'duration' && typeof raw === 'number') {
        return durationFieldText(raw);
      }
      return typeof raw === 'string' ? raw : JSON.stringify(value);
    }
    case 'uri': {
      const path = isObject(value) ? (value.path ?? value.uri) : value;
      return typeof path === 'string' ? path : JSON.stringify(value);
    }
    default: {
      const compact = JSON.stringify(value);
      return compact.length > 60 ? JSON.stringify(value, null, 2) : compact;
    }
  }
}

function selectOptions(type: TypeSpec, nullable: boolean, required: boolean): SelectOption[] {
  const values = type.kind === 'boolean' ? [true, false] : enumValues(type);
  const options = values.map(v => ({ label: typeof v === 'string' ? v : JSON.stringify(v), value: JSON.stringify(v) }));
  if (nullable) {
    return [{ label: 'None', value: '' }, ...options];
  }
  if (required) {
    return [{ label: 'Choose a value', value: '' }, ...options];
  }
  return options;
}

/**
 * The form's fields for an interface, with a launch plan's defaults and fixed
 * inputs laid over the interface's defaults.
 */
export function inputFields(inputs: InterfaceInputs, launchPlan?: LaunchPlanInfo | null): InputField[] {
  return Object.entries(inputs).map(([name, entry]) => {
    const declared: TypeSpec = isTypeSpec(entry.type) ? entry.type : { kind: 'pickle' };
    const typeName = describeType(declared);
    let type = declared;
    let nullable = false;
    if (type.kind === 'optional' && isTypeSpec(type.of)) {
      nullable = true;
      type = type.of;
    } else if (type.kind === 'none') {
      nullable = true;
    }
    let kind = kindOf(type);
    if (kind === 'checkbox' && nullable) {
      kind = 'select';
    }
    const field: InputField = {
      name,
      type: declared,
      typeName,
      kind,
      required: false,
      nullable,
      initial: ''
    };

    let hint = HINTS[kind];
    if (kind === 'json') {
      const example = jsonExample(type);
      hint = example ? `JSON, e.g. ${example}` : 'JSON';
    }
    let def: InputField['default'];
    if (entry.required === false && 'default' in entry) {
      if (isUnrepresentable(entry.default)) {
        hint = `Default set in code (${String((entry.default as Record<string, unknown>)[UNREPRESENTABLE])}); leave empty to use it`;
      } else if (isArtifactQuery(entry.default)) {
        hint = 'The default is an artifact query, which this server does not resolve yet: give a value';
      } else {
        def = { value: entry.default, from: 'interface' };
      }
    }
    if (launchPlan && name in launchPlan.defaultInputs) {
      const value = launchPlan.defaultInputs[name];
      if (isArtifactQuery(value)) {
        def = undefined;
        hint = `Launch plan ${launchPlan.name} defaults this to an artifact query, which this server does not resolve yet: give a value`;
      } else {
        def = { value, from: 'launch_plan' };
      }
    }
    const leftToWorker = def === undefined && entry.required === false && isUnrepresentable(entry.default);
    field.required = def === undefined && !nullable && kind !== 'checkbox' && !leftToWorker;
    if (launchPlan && name in launchPlan.fixedInputs) {
      const value = launchPlan.fixedInputs[name];
      field.fixed = { value, launchPlan: launchPlan.name };
      field.required = false;
      def = undefined;
      hint = undefined;
      field.initial = isArtifactQuery(value) ? 'artifact query' : formatLiteral(kind, value);
    } else if (def !== undefined) {
      field.default = def;
      field.initial = formatLiteral(kind, def.value);
    } else if (kind === 'checkbox') {
      field.initial = 'false';
    }
    if (kind === 'select') {
      field.options = selectOptions(type, nullable, field.required);
    }
    if (kind === 'unsupported') {
      hint = field.required
        ? `Values of ${typeName} cannot be given here; pass them from a task's output`
        : `Values of ${typeName} cannot be given here; the default applies`;
    }
    field.hint = hint;
    field.placeholder = nullable && kind !== 'select' ? 'None' : PLACEHOLDERS[kind];
    if (field.default && field.initial && kind !== 'json' && kind !== 'select' && kind !== 'checkbox') {
      field.placeholder = field.initial; // a cleared field shows the default it falls back to
    }
    return field;
  });
}

/** The texts a form starts with, by input name. */
export function initialValues(fields: InputField[]): Record<string, string> {
  return Object.fromEntries(fields.map(f => [f.name, f.initial]));
}

// ------------------------------------------------------------------ parsing

/** A field's text read: the literal to send, nothing to send (the default applies), or what is wrong. */
export type Parsed = { kind: 'value'; value: unknown } | { kind: 'omit' } | { kind: 'error'; message: string };

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const UNITS: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };

/** Seconds from `300`, `1.5`, `90s`, `5m`, `1h30m`, `2d`, `500ms` or `01:30:00`; null if none of these. */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (NUMBER.test(t)) {
    return Number(t);
  }
  const clock = /^(\d+):([0-5]?\d):([0-5]?\d(?:\.\d+)?)$/.exec(t);
  if (clock) {
    return Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3]);
  }
  if (!/^(\d+(\.\d+)?\s*(ms|us|d|h|m|s)\s*)+$/.test(t)) {
    return null;
  }
  let seconds = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)\s*(ms|us|d|h|m|s)/g)) {
    seconds += Number(m[1]) * UNITS[m[2]];
  }
  return seconds;
}

function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function unionAllowsString(type: TypeSpec): boolean {
  if (type.kind === 'string') {
    return true;
  }
  if (type.kind === 'optional') {
    return isTypeSpec(type.of) && unionAllowsString(type.of);
  }
  return type.kind === 'union' && Array.isArray(type.variants) && type.variants.some(v => isTypeSpec(v) && unionAllowsString(v));
}

/** The type a field's text is read as (Optional[X] is read as X; empty means None). */
function innerType(field: InputField): TypeSpec {
  const t = field.type;
  return t.kind === 'optional' && isTypeSpec(t.of) ? t.of : t;
}

/**
 * A field's text as the literal to send.
 *
 * A text still equal to its default sends nothing (the server applies the
 * default); an empty text sends null for Optional inputs, nothing where a
 * default applies, and is an error where a value is required.
 */
export function parseInput(field: InputField, text: string): Parsed {
  const fail = (detail: string): Parsed => ({
    kind: 'error',
    message: `${field.name} expects ${field.typeName}: ${detail}`
  });
  if (field.fixed) {
    return { kind: 'omit' };
  }
  if (field.default !== undefined && text === field.initial) {
    return { kind: 'omit' };
  }
  const trimmed = field.kind === 'text' ? text : text.trim();
  if (trimmed === '') {
    if (field.nullable) {
      return { kind: 'value', value: null };
    }
    if (!field.required) {
      return { kind: 'omit' };
    }
    return fail('no value was given');
  }
  const type = innerType(field);
  switch (field.kind) {
    case 'unsupported':
      return fail(`values of ${field.typeName} cannot be given here`);
    case 'integer': {
      if (!INTEGER.test(trimmed)) {
        return fail(`${NUMBER.test(trimmed) ? trimmed : describeValue(trimmed)} is not an integer`);
      }
      const value = Number(trimmed);
      if (!Number.isSafeInteger(value)) {
        return fail(`${trimmed} is too large to send exactly (the limit is ±${Number.MAX_SAFE_INTEGER})`);
      }
      return { kind: 'value', value };
    }
    case 'float':
      if (!NUMBER.test(trimmed) || !Number.isFinite(Number(trimmed))) {
        return fail(`${describeValue(trimmed)} is not a number`);
      }
      return { kind: 'value', value: Number(trimmed) };
    case 'text':
      return { kind: 'value', value: text };
    case 'checkbox':
      return { kind: 'value', value: trimmed === 'true' };
    case 'select': {
      const option = field.options?.find(o => o.value === trimmed);
      if (!option) {
        const choices = (field.options ?? []).filter(o => o.value).map(o => o.label);
        return fail(`${describeValue(jsonOrText(trimmed))} is not one of ${choices.join(', ')}`);
      }
      return { kind: 'value', value: JSON.parse(option.value) };
    }
    case 'datetime':
      if (!isIsoDateTime(trimmed)) {
        return fail(`${describeValue(trimmed)} is not an ISO 8601 date and time such as 2024-05-01T12:00:00`);
      }
      return { kind: 'value', value: { __datetime__: trimmed.replace(' ', 'T') } };
    case 'date':
      if (!isIsoDate(trimmed)) {
        return fail(`${describeValue(trimmed)} is not an ISO 8601 date such as 2024-05-01`);
      }
      return { kind: 'value', value: { __date__: trimmed } };
    case 'duration': {
      const seconds = parseDuration(trimmed);
      if (seconds === null) {
        return fail(`${describeValue(trimmed)} is not a duration; give seconds, or e.g. 90s, 5m, 1h30m`);
      }
      return { kind: 'value', value: { __duration__: seconds } };
    }
    case 'bytes': {
      const hex = trimmed.replace(/\s+/g, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) {
        return fail(`${describeValue(trimmed)} is not hexadecimal bytes such as 00ff`);
      }
      return { kind: 'value', value: { __bytes__: hex.toLowerCase() } };
    }
    case 'uri':
      if (type.kind === 'dataframe') {
        return { kind: 'value', value: trimmed };
      }
      return { kind: 'value', value: { path: trimmed, format: typeof type.format === 'string' ? type.format : '' } };
    default: {
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch (err) {
        if (unionAllowsString(type)) {
          value = trimmed; // `Union[int, str]`: text that is not JSON is a string
        } else {
          return fail(`the text is not valid JSON (${(err as Error).message})`);
        }
      }
      const problem = checkLiteral(field.type, value);
      return problem === null ? { kind: 'value', value } : fail(problem);
    }
  }
}

// ------------------------------------------------------------------ the request

/** What runs: a task, a workflow, or a launch plan (which runs its workflow). */
export interface ExecutionTarget {
  kind: EntityKind;
  name: string;
  version?: string;
  project: string;
  domain: ExecutionCreate['domain'];
}

/**
 * The request body, or what is wrong (by input name and settings key).
 * `body` is null when there are errors.
 */
export function buildExecution(
  target: ExecutionTarget,
  fields: InputField[],
  values: Record<string, string>,
  settingsDraft: SettingsDraft
): { body: ExecutionCreate | null; errors: Record<string, string> } {
  const inputs: Record<string, unknown> = {};
  const { settings, errors } = readSettings(settingsDraft);
  for (const field of fields) {
    const parsed = parseInput(field, values[field.name] ?? field.initial);
    if (parsed.kind === 'error') {
      errors[field.name] = parsed.message;
    } else if (parsed.kind === 'value') {
      inputs[field.name] = parsed.value;
    }
  }
  if (Object.keys(errors).length) {
    return { body: null, errors };
  }
  const body: ExecutionCreate = {
    kind: target.kind,
    name: target.name,
    project: target.project,
    domain: target.domain,
    inputs,
    settings
  };
  if (target.version) {
    body.version = target.version;
  }
  return { body, errors };
}

/**
 * A server's problems (from `ApiError.problems`: by input name or request
 * field path) split into those the form shows by a field and the rest.
 */
export function fieldProblems(
  problems: Record<string, string>,
  fields: InputField[]
): { byField: Record<string, string>; other: string[] } {
  const names = new Set(fields.filter(f => !f.fixed).map(f => f.name));
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const [key, message] of Object.entries(problems)) {
    const input = key.startsWith('inputs.') ? key.slice('inputs.'.length) : key;
    const setting = Object.values(SETTING_KEYS).find(k => key === k || key.startsWith(`${k}.`));
    if (names.has(input)) {
      byField[input] = message;
    } else if (setting) {
      byField[setting] = message;
    } else {
      other.push(message);
    }
  }
  return { byField, other };
}
