/**
 * The launch form's settings: execution name, cache, parallelism, environment
 * variables, labels, annotations, raw output prefix and interruptible, read into
 * `ExecutionSettings` (only what the form sets, so the launch plan's values apply
 * to the rest, as on the server).
 *
 * Framework-free: no DOM, no React.
 */
import type { ExecutionSettings } from '../api/client';
import { describeValue } from '../api/literals';
import type { LaunchPlanInfo } from './model';

const INTEGER = /^[+-]?\d+$/;

export interface KeyValueRow {
  /** Stable id, for rendering and for error keys. */
  id: number;
  key: string;
  value: string;
}

export interface SettingsDraft {
  /** Execution name; empty: the server generates one. */
  name: string;
  overwriteCache: boolean;
  /** Empty: the launch plan's value, or no limit. */
  maxParallelism: string;
  envs: KeyValueRow[];
  labels: KeyValueRow[];
  annotations: KeyValueRow[];
  /** Empty: the launch plan's prefix, or the server's default. */
  rawOutputPrefix: string;
  /** '': the tasks' own setting; 'true' or 'false' overrides it for every task. */
  interruptible: '' | 'true' | 'false';
}

/** The settings given as key/value rows. */
export type RowGroup = 'envs' | 'labels' | 'annotations';

/** Error keys of the settings: the request's field paths, as the server names them in a 422. */
export const SETTING_KEYS = {
  name: 'settings.name',
  overwriteCache: 'settings.overwrite_cache',
  maxParallelism: 'settings.max_parallelism',
  envs: 'settings.envs',
  labels: 'settings.labels',
  annotations: 'settings.annotations',
  rawOutputPrefix: 'settings.raw_output_prefix',
  interruptible: 'settings.interruptible'
} as const;

/** The error key of one key/value row: `settings.envs#3`. */
export function rowKey(group: RowGroup, row: KeyValueRow): string {
  return `${SETTING_KEYS[group]}#${row.id}`;
}

export const EXECUTION_NAME = /^[a-z][a-z0-9-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_PARALLELISM = 10000;
export const MAX_PREFIX_LENGTH = 1024;

export function initialSettings(launchPlan?: LaunchPlanInfo | null): SettingsDraft {
  return {
    name: '',
    overwriteCache: launchPlan?.overwriteCache ?? false,
    maxParallelism: '',
    envs: [],
    labels: [],
    annotations: [],
    rawOutputPrefix: '',
    interruptible: ''
  };
}

/** `rows` with an empty row added (its id one past the largest). */
export function addRow(rows: KeyValueRow[]): KeyValueRow[] {
  const id = rows.reduce((max, r) => Math.max(max, r.id), 0) + 1;
  return [...rows, { id, key: '', value: '' }];
}

const ROW_WORDS: Record<RowGroup, string> = { envs: 'environment variable', labels: 'label', annotations: 'annotation' };

function readRows(group: RowGroup, rows: KeyValueRow[], errors: Record<string, string>): Record<string, string> {
  const what = ROW_WORDS[group];
  const out: Record<string, string> = {};
  for (const row of rows) {
    const key = row.key.trim();
    if (!key && !row.value) {
      continue; // an empty row: ignored
    }
    if (!key) {
      errors[rowKey(group, row)] = `The ${what} with value ${describeValue(row.value)} needs a name`;
    } else if (group === 'envs' && !ENV_NAME.test(key)) {
      errors[rowKey(group, row)] =
        `Environment variable ${describeValue(key)} is not a valid name: use letters, digits and _, not starting with a digit`;
    } else if (key in out) {
      errors[rowKey(group, row)] = `The ${what} ${key} is given twice`;
    } else {
      out[key] = row.value;
    }
  }
  return out;
}

/** The settings to send (only those the form sets), and what is wrong, by error key. */
export function readSettings(draft: SettingsDraft): { settings: ExecutionSettings; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const settings: ExecutionSettings = { overwrite_cache: draft.overwriteCache };
  const name = draft.name.trim();
  if (name) {
    if (EXECUTION_NAME.test(name)) {
      settings.name = name;
    } else {
      errors[SETTING_KEYS.name] =
        `Execution name ${describeValue(name)} is not valid: use a lowercase letter, then up to 63 lowercase letters, digits or -`;
    }
  }
  const parallelism = draft.maxParallelism.trim();
  if (parallelism) {
    const n = Number(parallelism);
    if (INTEGER.test(parallelism) && n >= 1 && n <= MAX_PARALLELISM) {
      settings.max_parallelism = n;
    } else {
      errors[SETTING_KEYS.maxParallelism] =
        `Max parallelism expects an integer from 1 to ${MAX_PARALLELISM}: ${describeValue(parallelism)} is not`;
    }
  }
  const envs = readRows('envs', draft.envs, errors);
  if (Object.keys(envs).length) {
    settings.envs = envs;
  }
  const labels = readRows('labels', draft.labels, errors);
  if (Object.keys(labels).length) {
    settings.labels = labels;
  }
  const annotations = readRows('annotations', draft.annotations, errors);
  if (Object.keys(annotations).length) {
    settings.annotations = annotations;
  }
  const prefix = draft.rawOutputPrefix.trim();
  if (prefix.length > MAX_PREFIX_LENGTH) {
    errors[SETTING_KEYS.rawOutputPrefix] =
      `Raw output prefix is ${prefix.length} characters long; the most is ${MAX_PREFIX_LENGTH}`;
  } else if (prefix) {
    settings.raw_output_prefix = prefix;
  }
  if (draft.interruptible) {
    settings.interruptible = draft.interruptible === 'true';
  }
  return { settings, errors };
}
