/**
 * "Relaunch with changes": the launch form's fields and settings filled from an
 * earlier execution, so that one changes what differs and launches.
 *
 * An execution's inputs are value refs (`{literal}`, or `{collection}` and
 * `{mapping}` of refs, or `{uri}` where the value was stored in the object
 * store); a literal becomes the field's text as the form writes defaults. A value
 * kept in the object store is not read back: its field keeps its default and a
 * note says so. The execution's settings are stored merged with its launch
 * plan's; what equals the plan's own value is left to the plan.
 *
 * Framework-free: no DOM, no React.
 */
import { InputField, LaunchPlanInfo, formatLiteral } from './model';
import { KeyValueRow, SettingsDraft, initialSettings } from './settings';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function navigate(value: unknown, path: unknown): unknown {
  let v = value;
  for (const step of Array.isArray(path) ? path : []) {
    v = (v as Record<string, unknown> | null)?.[step];
  }
  return v;
}

/** The literal a value ref stands for, or undefined when (part of) it is in the object store. */
export function refLiteral(ref: unknown): unknown {
  if (!isObject(ref)) {
    return undefined;
  }
  if ('literal' in ref) {
    return navigate(ref.literal, ref.path);
  }
  if (Array.isArray(ref.collection)) {
    const items = ref.collection.map(refLiteral);
    return items.includes(undefined) ? undefined : items;
  }
  if (isObject(ref.mapping)) {
    const entries = Object.entries(ref.mapping).map(([k, v]) => [k, refLiteral(v)] as const);
    return entries.some(([, v]) => v === undefined) ? undefined : Object.fromEntries(entries);
  }
  return undefined;
}

export interface InputsPrefill {
  /** The texts of the fields filled from the execution, by input name. */
  values: Record<string, string>;
  /** What could not be filled, in words. */
  notes: string[];
}

/** The fields' texts from an execution's inputs (`Execution.inputs`). */
export function prefillInputs(fields: InputField[], inputs: Record<string, unknown> | null | undefined): InputsPrefill {
  const values: Record<string, string> = {};
  const notes: string[] = [];
  const given = inputs ?? {};
  for (const field of fields) {
    if (!(field.name in given)) {
      continue;
    }
    const ref = given[field.name];
    if (field.fixed) {
      continue; // the launch plan fixes it; the execution had the same value
    }
    const literal = refLiteral(ref);
    if (literal === undefined) {
      const preview = isObject(ref) && typeof ref.preview === 'string' && ref.preview ? ` (${ref.preview})` : '';
      notes.push(
        `${field.name}: the execution's value${preview} is kept in the object store and is not read back here; ` +
          `the field shows ${field.default ? 'its default' : 'no value'}`
      );
      continue;
    }
    if (field.kind === 'unsupported') {
      notes.push(`${field.name}: values of ${field.typeName} cannot be given here; ${field.required ? 'it needs one from a task' : 'the default applies'}`);
      continue;
    }
    values[field.name] = formatLiteral(field.kind, literal);
  }
  const names = new Set(fields.map(f => f.name));
  for (const name of Object.keys(given)) {
    if (!names.has(name)) {
      notes.push(`${name}: the execution had this input, which this version does not take; it is left out`);
    }
  }
  return { values, notes };
}

function rows(values: unknown, leave: Record<string, string> = {}): KeyValueRow[] {
  if (!isObject(values)) {
    return [];
  }
  return Object.entries(values)
    .filter(([k, v]) => leave[k] !== String(v))
    .map(([key, value], i) => ({ id: i + 1, key, value: String(value) }));
}

/**
 * The settings draft from an execution's stored settings (`Execution.settings`),
 * leaving to `plan` what it sets itself. The execution name is left empty: names
 * are unique, and the server makes a new one.
 */
export function prefillSettings(settings: Record<string, unknown> | null | undefined, plan: LaunchPlanInfo | null): SettingsDraft {
  const s = settings ?? {};
  const draft = initialSettings(plan);
  draft.overwriteCache = s.overwrite_cache === true;
  if (typeof s.max_parallelism === 'number' && s.max_parallelism !== plan?.maxParallelism) {
    draft.maxParallelism = String(s.max_parallelism);
  }
  draft.envs = rows(s.envs);
  draft.labels = rows(s.labels, plan?.labels);
  draft.annotations = rows(s.annotations, plan?.annotations);
  const prefix = typeof s.raw_output_prefix === 'string' ? s.raw_output_prefix : '';
  const planPrefix = (plan?.rawOutputPrefix ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix && prefix !== planPrefix) {
    draft.rawOutputPrefix = prefix;
  }
  if (typeof s.interruptible === 'boolean') {
    draft.interruptible = s.interruptible ? 'true' : 'false';
  }
  return draft;
}
