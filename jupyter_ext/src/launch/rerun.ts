/**
 * "Run from here": the launch form in re-run mode. The chosen nodes, and what
 * depends on them, run again; every other node takes the original execution's
 * outputs (REUSED). The form shows the workflow's inputs filled from the
 * original and sends only those the user changed, so that an input left alone
 * is the original's exact stored value (not a re-typed copy that would make
 * the nodes reading it run again).
 *
 * Framework-free: no DOM, no React.
 */
import type { RerunRequest } from '../execution/api';
import { InputField, parseInput } from './model';
import { SETTING_KEYS, initialSettings, readSettings } from './settings';

/** What the form re-runs: an ended execution and the node paths chosen to run again. */
export interface RerunSource {
  execution: string;
  fromNodes: string[];
}

/** The form's title: "Run from n3, n5 of ex-42". */
export function rerunTitle(source: RerunSource): string {
  return `Run from ${source.fromNodes.join(', ')} of ${source.execution}`;
}

/**
 * The re-run request, or what is wrong (by input name, and `SETTING_KEYS.name`).
 *
 * `original` holds the texts the fields started with (the original's inputs as
 * `prefillInputs` wrote them); a field whose text is still that is left out. A
 * changed field is sent even when its text is the default: the original ran with
 * another value, so the default must be given. An emptied field sends the default
 * (or null where None is allowed).
 */
export function buildRerun(
  source: RerunSource,
  fields: InputField[],
  original: Record<string, string>,
  values: Record<string, string>,
  name: string
): { body: RerunRequest | null; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const inputs: Record<string, unknown> = {};
  for (const field of fields) {
    const text = values[field.name] ?? field.initial;
    if (field.fixed || text === (original[field.name] ?? field.initial)) {
      continue;
    }
    if (text.trim() === '' && field.default !== undefined && !field.nullable) {
      inputs[field.name] = field.default.value;
      continue;
    }
    const parsed = parseInput({ ...field, default: undefined }, text);
    if (parsed.kind === 'error') {
      errors[field.name] = parsed.message;
    } else if (parsed.kind === 'value') {
      inputs[field.name] = parsed.value;
    }
  }
  const named = readSettings({ ...initialSettings(), name });
  if (named.errors[SETTING_KEYS.name]) {
    errors[SETTING_KEYS.name] = named.errors[SETTING_KEYS.name];
  }
  if (Object.keys(errors).length) {
    return { body: null, errors };
  }
  const body: RerunRequest = { from_nodes: [...source.fromNodes] };
  if (Object.keys(inputs).length) {
    body.inputs = inputs;
  }
  if (named.settings.name) {
    body.name = named.settings.name;
  }
  return { body, errors };
}

/**
 * Where a re-run's 422 goes: a workflow input's problem (`inputs.x`) by its field,
 * the name's by the name, and the rest (an unknown node in `from_nodes`, a
 * changed spec) at the top.
 */
export function rerunProblems(
  problems: Record<string, string>,
  fields: InputField[]
): { byField: Record<string, string>; other: string[] } {
  const names = new Set(fields.map(f => f.name));
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const [key, message] of Object.entries(problems)) {
    const input = key.startsWith('inputs.') ? key.slice('inputs.'.length) : null;
    if (input !== null && names.has(input)) {
      byField[input] = message;
    } else if (key === 'name' || key === SETTING_KEYS.name) {
      byField[SETTING_KEYS.name] = message;
    } else {
      other.push(message);
    }
  }
  return { byField, other };
}
