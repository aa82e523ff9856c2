/**
 * The launch form: inputs from the entity's interface (with a launch plan's
 * defaults and fixed inputs), execution settings, and a Launch button that
 * POSTs `executions`. What is wrong shows under the field it concerns, both
 * before sending (on blur and on submit) and after (a 422's problems).
 *
 * With `fromExecution` the form starts from that execution's inputs and
 * settings ("Relaunch with changes"). With `rerun` it re-runs that execution
 * from the chosen nodes ("Run from here"): the workflow's inputs filled from it,
 * no launch plan or settings (the original's apply) but the new execution's
 * name, and Launch POSTs `executions/{id}/rerun` with the inputs that changed.
 * The first input takes the focus.
 */
import * as React from 'react';

import { ApiError, Execution, PlaitClient } from '../api/client';
import { getExecution, rerun as postRerun } from '../execution/api';
import { InputFieldView, KeyValueRows } from './fields';
import { LaunchContext, LaunchTarget, loadLaunchContext } from './load';
import {
  ExecutionTarget,
  InputField,
  LaunchPlanInfo,
  buildExecution,
  fieldProblems,
  initialValues,
  inputFields,
  parseInput
} from './model';
import { prefillInputs, prefillSettings } from './prefill';
import { RerunSource, buildRerun, rerunProblems, rerunTitle } from './rerun';
import {
  KeyValueRow,
  MAX_PARALLELISM,
  RowGroup,
  SETTING_KEYS,
  SettingsDraft,
  addRow,
  initialSettings,
  readSettings,
  rowKey
} from './settings';

export type { LaunchTarget } from './load';

export interface LaunchFormProps {
  client: PlaitClient;
  target: LaunchTarget;
  /** Start from this execution's inputs and settings instead of the defaults. */
  fromExecution?: string;
  /** Re-run this execution from these nodes instead of launching ("Run from here"); `fromExecution` is ignored. */
  rerun?: RerunSource;
  onLaunched: (execution: Execution) => void;
  onCancel?: () => void;
}

/** Under the environment variables: they are stored and shown with the execution. */
const ENVS_HINT =
  'Settings, not secrets: these values are stored and shown with the execution. ' +
  'Give a task secrets through its secret_requests.';

/** The settings entered as key/value rows, in the order the form shows them. */
const KEY_VALUE_GROUPS: { group: RowGroup; title: string; singular: string; keyWord: string }[] = [
  { group: 'envs', title: 'Environment variables', singular: 'environment variable', keyWord: 'name' },
  { group: 'labels', title: 'Labels', singular: 'label', keyWord: 'key' },
  { group: 'annotations', title: 'Annotations', singular: 'annotation', keyWord: 'key' }
];

const KIND_WORDS: Record<LaunchTarget['kind'], string> = {
  task: 'task',
  workflow: 'workflow',
  launch_plan: 'launch plan'
};

type Errors = Record<string, string>;

function withError(errors: Errors, key: string, message: string | undefined): Errors {
  if (errors[key] === message) {
    return errors;
  }
  const next = { ...errors };
  if (message === undefined) {
    delete next[key];
  } else {
    next[key] = message;
  }
  return next;
}

/**
 * Run a blur check now, or, when focus moved to a button, once the pointer or
 * key is released: a message appearing on mousedown would shift the button
 * away before mouseup, and the click would be lost.
 */
function onBlurCheck(event: React.FocusEvent, check: () => void): void {
  const next = event.relatedTarget;
  if (!(next instanceof HTMLElement) || next.tagName !== 'BUTTON') {
    check();
    return;
  }
  const doc = event.currentTarget.ownerDocument;
  let done = false;
  const run = () => {
    if (done) {
      return;
    }
    done = true;
    doc.removeEventListener('pointerup', run, true);
    doc.removeEventListener('keyup', run, true);
    clearTimeout(fallback);
    setTimeout(check, 0); // after the click that the release completes
  };
  doc.addEventListener('pointerup', run, true);
  doc.addEventListener('keyup', run, true);
  const fallback = setTimeout(run, 1000);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What the form says at the top when it starts from an execution. */
interface PrefillNote {
  execution: string;
  /** What could not be filled, or why nothing was. */
  notes: string[];
}

/** The control the form focuses when it opens: the first editable input, else the launch plan picker. */
function firstControl(form: HTMLFormElement): HTMLElement | null {
  const controls = Array.from(
    form.querySelectorAll<HTMLElement>('.plait-LaunchForm-inputs input, .plait-LaunchForm-inputs textarea, .plait-LaunchForm-inputs select')
  );
  const editable = controls.find(c => !c.hasAttribute('readonly') && !c.hasAttribute('disabled'));
  return editable ?? form.querySelector<HTMLElement>('.plait-LaunchForm-planPicker');
}

export function LaunchForm(props: LaunchFormProps): JSX.Element {
  const { client, target, onLaunched, onCancel, rerun } = props;
  const fromExecution = rerun?.execution ?? props.fromExecution;
  // The nodes as one string: a new array with the same nodes is the same form.
  const rerunNodes = rerun?.fromNodes.join(',');
  const base = React.useId();
  const formRef = React.useRef<HTMLFormElement>(null);

  const [context, setContext] = React.useState<LaunchContext | null>(null);
  const [loadError, setLoadError] = React.useState<string | null>(null);
  const [planName, setPlanName] = React.useState<string | null>(null);
  const [values, setValues] = React.useState<Record<string, string>>({});
  const [edited, setEdited] = React.useState<ReadonlySet<string>>(new Set());
  const [settings, setSettings] = React.useState<SettingsDraft>(initialSettings());
  const [errors, setErrors] = React.useState<Errors>({});
  const [banner, setBanner] = React.useState<string | null>(null);
  const [submitting, setSubmitting] = React.useState(false);
  const [focusTick, setFocusTick] = React.useState(0);
  const [addedRow, setAddedRow] = React.useState<number | null>(null);
  const [prefilled, setPrefilled] = React.useState<PrefillNote | null>(null);
  // Re-run mode: the texts the fields started with (the original's inputs); only changed ones are sent.
  const [original, setOriginal] = React.useState<Record<string, string>>({});

  // The latest state, for checks that run after a click (see onBlurCheck).
  const latest = React.useRef({ values, settings, edited, errors });
  latest.current = { values, settings, edited, errors };

  const plan: LaunchPlanInfo | null = context?.launchPlans.find(p => p.name === planName) ?? null;
  const fields: InputField[] = React.useMemo(
    () => (context ? inputFields(context.inputs, plan) : []),
    [context, plan]
  );

  React.useEffect(() => {
    const abort = new AbortController();
    setContext(null);
    setLoadError(null);
    setPrefilled(null);
    const load = async () => {
      let execution: Execution | null = null;
      let problem: string | null = null;
      if (fromExecution) {
        try {
          execution = await getExecution(client, fromExecution);
        } catch (err) {
          if (abort.signal.aborted) {
            throw err;
          }
          problem = `Execution ${fromExecution} could not be read (${describe(err)}); the form starts from the defaults.`;
        }
      }
      // The execution's project and domain, unless the target names them.
      const scoped: LaunchTarget = execution
        ? { ...target, project: target.project ?? execution.project, domain: target.domain ?? execution.domain }
        : target;
      const loaded = await loadLaunchContext(client, scoped, abort.signal);
      return { loaded, execution, problem };
    };
    load().then(
      ({ loaded, execution, problem }) => {
        if (abort.signal.aborted) {
          return; // the target changed while this one loaded
        }
        if (rerunNodes !== undefined && !execution) {
          setLoadError(`${problem ?? `Execution ${fromExecution} could not be read.`} There is nothing to re-run.`);
          return;
        }
        // A re-run keeps the original's launch plan and settings: the form shows the workflow's own inputs.
        const first =
          rerunNodes !== undefined ? null : (loaded.launchPlans.find(p => p.name === loaded.defaultPlan) ?? null);
        const firstFields = inputFields(loaded.inputs, first);
        let startValues = initialValues(firstFields);
        let startSettings = initialSettings(first);
        let startEdited = new Set<string>();
        if (execution) {
          const filled = prefillInputs(firstFields, execution.inputs);
          startValues = { ...startValues, ...filled.values };
          startEdited = new Set(Object.keys(filled.values)); // kept, like typed text, when the plan changes
          startSettings = prefillSettings(execution.settings, first);
          setPrefilled({ execution: execution.id, notes: filled.notes });
          setOriginal(filled.values);
        } else if (fromExecution) {
          setPrefilled({ execution: fromExecution, notes: problem ? [problem] : [] });
        }
        setContext(loaded);
        setPlanName(first?.name ?? null);
        setValues(startValues);
        setEdited(startEdited);
        setSettings(startSettings);
        setErrors({});
      },
      err => {
        if (!abort.signal.aborted) {
          setLoadError(`Could not read ${KIND_WORDS[target.kind]} ${target.name}: ${describe(err)}`);
        }
      }
    );
    return () => abort.abort();
  }, [client, target.kind, target.name, target.version, target.project, target.domain, fromExecution, rerunNodes]);

  React.useEffect(() => {
    if (context && formRef.current) {
      firstControl(formRef.current)?.focus();
    }
  }, [context]);

  React.useEffect(() => {
    if (focusTick) {
      formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
    }
  }, [focusTick]);

  if (loadError) {
    return (
      <div className="plait-LaunchForm">
        <div className="plait-LaunchForm-banner" role="alert">
          {loadError}
        </div>
        {onCancel && (
          <div className="plait-LaunchForm-actions">
            <button type="button" className="plait-LaunchForm-button" onClick={onCancel}>
              Cancel
            </button>
          </div>
        )}
      </div>
    );
  }
  if (!context) {
    return (
      <div className="plait-LaunchForm" role="status">
        Loading {KIND_WORDS[target.kind]} {target.name}…
      </div>
    );
  }

  const entity = context.entity;
  const executionTarget: ExecutionTarget = plan
    ? { kind: 'launch_plan', name: plan.name, version: plan.version, project: entity.project, domain: entity.domain }
    : { kind: entity.kind, name: entity.name, version: entity.version, project: entity.project, domain: entity.domain };

  /**
   * Another launch plan: fields the user typed (or that came from an execution)
   * keep their text, and stay marked while that text is still wrong; the others
   * take the new plan's defaults.
   */
  const choosePlan = (name: string) => {
    const next = context.launchPlans.find(p => p.name === name) ?? null;
    const nextFields = inputFields(context.inputs, next);
    const kept = (f: InputField) => !f.fixed && edited.has(f.name) && values[f.name] !== undefined;
    const nextValues = Object.fromEntries(nextFields.map(f => [f.name, kept(f) ? values[f.name] : f.initial]));
    const nextErrors = Object.fromEntries(Object.entries(errors).filter(([k]) => k.startsWith('settings.')));
    for (const f of nextFields) {
      const parsed = kept(f) && errors[f.name] !== undefined ? parseInput(f, nextValues[f.name]) : null;
      if (parsed?.kind === 'error') {
        nextErrors[f.name] = parsed.message;
      }
    }
    setPlanName(next?.name ?? null);
    setValues(nextValues);
    setSettings(s => ({ ...s, overwriteCache: next?.overwriteCache ?? false }));
    setErrors(nextErrors);
  };

  const setValue = (field: InputField, text: string) => {
    setValues(v => ({ ...v, [field.name]: text }));
    setEdited(e => (e.has(field.name) ? e : new Set(e).add(field.name)));
    if (errors[field.name] !== undefined) {
      const parsed = parseInput(field, text);
      setErrors(e => withError(e, field.name, parsed.kind === 'error' ? parsed.message : undefined));
    }
  };

  const checkField = (field: InputField) => {
    const { edited: touched, errors: shown } = latest.current;
    if (!touched.has(field.name) && shown[field.name] === undefined) {
      return; // focus passing through (the form focuses the first field): nothing was typed yet
    }
    const parsed = parseInput(field, latest.current.values[field.name] ?? field.initial);
    setErrors(e => withError(e, field.name, parsed.kind === 'error' ? parsed.message : undefined));
  };

  /** Check the settings whose error keys `keys` picks, and show their messages. */
  const checkSettings = (draft: SettingsDraft, picks: (key: string) => boolean) => {
    const found = readSettings(draft).errors;
    setErrors(e => {
      const next = Object.fromEntries(Object.entries(e).filter(([k]) => !picks(k)));
      for (const [k, message] of Object.entries(found)) {
        if (picks(k)) {
          next[k] = message;
        }
      }
      return next;
    });
  };

  const updateSettings = (patch: Partial<SettingsDraft>, picks?: (key: string) => boolean) => {
    const next = { ...settings, ...patch };
    setSettings(next);
    if (picks && Object.keys(errors).some(picks)) {
      checkSettings(next, picks);
    }
  };

  const isKey = (key: string) => (k: string) => k === key;
  const inGroup = (group: RowGroup) => (k: string) => k.startsWith(SETTING_KEYS[group]);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (submitting) {
      return;
    }
    setBanner(null);
    if (rerun) {
      await submitRerun(rerun);
      return;
    }
    const { body, errors: found } = buildExecution(executionTarget, fields, values, settings);
    setErrors(found);
    if (!body) {
      setFocusTick(t => t + 1);
      return;
    }
    const name = body.settings?.name;
    await send(() => client.request('post', 'executions', { body }), fieldProblems, 'Could not launch',
      name ? SETTING_KEYS.name : undefined);
  };

  /**
   * POST through `post` and open what it created. A 422 shows by the fields `problemsOf` finds in it,
   * else at the top; a 409 shows by `conflictField` when given (the execution name is taken).
   */
  const send = async (
    post: () => Promise<Execution>,
    problemsOf: typeof fieldProblems,
    failed: string,
    conflictField?: string
  ) => {
    setSubmitting(true);
    try {
      const execution = await post();
      setSubmitting(false);
      onLaunched(execution);
    } catch (err) {
      setSubmitting(false);
      if (err instanceof ApiError && err.status === 422) {
        const { byField, other } = problemsOf(err.problems, fields);
        setErrors(byField);
        if (other.length || !Object.keys(byField).length) {
          setBanner(other.length ? other.join('\n') : err.message);
        }
        setFocusTick(t => t + 1);
      } else if (err instanceof ApiError && err.status === 409 && conflictField) {
        setErrors({ [conflictField]: err.message });
        setFocusTick(t => t + 1);
      } else {
        setBanner(`${failed}: ${describe(err)}`);
      }
    }
  };

  /** "Run from here": POST the chosen nodes and the changed inputs; a 422 shows by the input it names, else at the top. */
  const submitRerun = async (source: RerunSource) => {
    const { body, errors: found } = buildRerun(source, fields, original, values, settings.name);
    setErrors(found);
    if (!body) {
      setFocusTick(t => t + 1);
      return;
    }
    await send(() => postRerun(client, source.execution, body), rerunProblems, 'Could not run again');
  };

  const id = (part: string) => `${base}-${part}`;
  const rowErrors = (group: RowGroup, rows: KeyValueRow[]) =>
    Object.fromEntries(rows.map(r => [r.id, errors[rowKey(group, r)]]));
  const groupError = (group: RowGroup) => errors[SETTING_KEYS[group]];
  const addTo = (group: RowGroup) => () => {
    const rows = addRow(settings[group]);
    setAddedRow(rows[rows.length - 1].id);
    updateSettings({ [group]: rows });
  };
  const headingId = id('title');

  return (
    <form ref={formRef} className="plait-LaunchForm" aria-labelledby={headingId} noValidate onSubmit={submit}>
      <header className="plait-LaunchForm-header">
        <h2 id={headingId} className="plait-LaunchForm-title">
          {rerun ? rerunTitle(rerun) : `Launch ${target.name}`}
        </h2>
        <div className="plait-LaunchForm-meta">
          {KIND_WORDS[target.kind]} · {entity.project}/{entity.domain} · version{' '}
          {plan && target.kind === 'launch_plan' ? plan.version : entity.version}
        </div>
        {entity.description && <p className="plait-LaunchForm-description">{entity.description}</p>}
        {rerun && (
          <p className="plait-LaunchForm-description">
            {rerun.fromNodes.join(', ')} and the nodes after {rerun.fromNodes.length === 1 ? 'it' : 'them'} run again;
            the others take the outputs of {rerun.execution}. A changed input also runs the nodes that read it.
            The settings are those of {rerun.execution}.
          </p>
        )}
      </header>

      {prefilled && (
        <div role="status" className="plait-LaunchForm-prefill">
          <span className="plait-LaunchForm-prefillTitle">Prefilled from execution {prefilled.execution}</span>
          {prefilled.notes.length > 0 && (
            <ul className="plait-LaunchForm-prefillNotes">
              {prefilled.notes.map(note => (
                <li key={note}>{note}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {banner && (
        <div className="plait-LaunchForm-banner" role="alert">
          {banner}
        </div>
      )}
      {context.planProblem && (
        <div role="status" className="plait-ExecutionView-error plait-LaunchForm-warning">
          {context.planProblem}
        </div>
      )}

      {!rerun && target.kind === 'workflow' && context.launchPlans.length > 0 && (
        <div className="plait-LaunchForm-field">
          <label htmlFor={id('plan')} className="plait-LaunchForm-name">
            Launch plan
          </label>
          <select
            id={id('plan')}
            className="plait-LaunchForm-input plait-LaunchForm-planPicker"
            value={planName ?? ''}
            onChange={e => choosePlan(e.target.value)}
          >
            {context.launchPlans.map(p => (
              <option key={p.name} value={p.name}>
                {p.name === entity.name ? `${p.name} (default)` : p.name}
              </option>
            ))}
          </select>
        </div>
      )}

      <section className="plait-LaunchForm-section plait-LaunchForm-inputs" aria-labelledby={id('inputs')}>
        <h3 id={id('inputs')} className="plait-LaunchForm-sectionTitle">
          Inputs
        </h3>
        {fields.length === 0 && <p className="plait-LaunchForm-hint">This {KIND_WORDS[entity.kind]} takes no inputs.</p>}
        {fields.map(field => (
          <InputFieldView
            key={`${planName ?? ''}:${field.name}`}
            field={field}
            id={id(`input-${field.name}`)}
            value={values[field.name] ?? field.initial}
            error={errors[field.name]}
            launchPlan={plan?.name}
            onChange={text => setValue(field, text)}
            onBlur={e => onBlurCheck(e, () => checkField(field))}
          />
        ))}
      </section>

      <section className="plait-LaunchForm-section" aria-labelledby={id('settings')}>
        <h3 id={id('settings')} className="plait-LaunchForm-sectionTitle">
          Settings
        </h3>
        <SettingField id={id('name')} label="Execution name" error={errors[SETTING_KEYS.name]}
          hint="A lowercase letter, then lowercase letters, digits or -; leave empty to generate one">
          {common => (
            <input
              {...common}
              type="text"
              className="plait-LaunchForm-input"
              spellCheck={false}
              autoComplete="off"
              placeholder="generated"
              value={settings.name}
              onChange={e => updateSettings({ name: e.target.value }, isKey(SETTING_KEYS.name))}
              onBlur={e => onBlurCheck(e, () => checkSettings(latest.current.settings, isKey(SETTING_KEYS.name)))}
            />
          )}
        </SettingField>
        {!rerun && (
          <>
            <div className="plait-LaunchForm-field plait-LaunchForm-checkRow">
              <input
                id={id('overwrite')}
                type="checkbox"
                className="plait-LaunchForm-checkbox"
                checked={settings.overwriteCache}
                aria-describedby={id('overwrite-hint')}
                onChange={e => updateSettings({ overwriteCache: e.target.checked })}
              />
              <label htmlFor={id('overwrite')}>Overwrite cached outputs</label>
              <span id={id('overwrite-hint')} className="plait-LaunchForm-hint">
                Run cached nodes again and replace their entries
              </span>
            </div>
            <SettingField id={id('parallelism')} label="Max parallelism" error={errors[SETTING_KEYS.maxParallelism]}
              hint={`Most nodes running at once, 1 to ${MAX_PARALLELISM}${plan?.maxParallelism ? `; launch plan ${plan.name} sets ${plan.maxParallelism}` : ''}`}>
              {common => (
                <input
                  {...common}
                  type="text"
                  inputMode="numeric"
                  className="plait-LaunchForm-input plait-LaunchForm-integer"
                  autoComplete="off"
                  placeholder={plan?.maxParallelism ? String(plan.maxParallelism) : 'no limit'}
                  value={settings.maxParallelism}
                  onChange={e => updateSettings({ maxParallelism: e.target.value }, isKey(SETTING_KEYS.maxParallelism))}
                  onBlur={e => onBlurCheck(e, () => checkSettings(latest.current.settings, isKey(SETTING_KEYS.maxParallelism)))}
                />
              )}
            </SettingField>
            {KEY_VALUE_GROUPS.map(g => {
              const fromPlan = g.group === 'envs' || !plan ? [] : Object.entries(plan[g.group]).map(([k, v]) => `${k}=${v}`);
              return (
                <KeyValueRows
                  key={g.group}
                  title={g.title}
                  singular={g.singular}
                  keyWord={g.keyWord}
                  idBase={id(g.group)}
                  rows={settings[g.group]}
                  errors={rowErrors(g.group, settings[g.group])}
                  note={
                    groupError(g.group) ??
                    (g.group === 'envs' ? ENVS_HINT : fromPlan.length ? `Launch plan ${plan?.name} adds ${fromPlan.join(', ')}` : undefined)
                  }
                  focusRow={addedRow}
                  onChange={rows => updateSettings({ [g.group]: rows }, inGroup(g.group))}
                  onAdd={addTo(g.group)}
                  onBlur={e => onBlurCheck(e, () => checkSettings(latest.current.settings, inGroup(g.group)))}
                />
              );
            })}
            <SettingField id={id('prefix')} label="Raw output prefix" error={errors[SETTING_KEYS.rawOutputPrefix]}
              hint={`A folder in the object store for the outputs, e.g. team-a/raw${plan?.rawOutputPrefix ? `; launch plan ${plan.name} sets ${plan.rawOutputPrefix}` : ''}`}>
              {common => (
                <input
                  {...common}
                  type="text"
                  className="plait-LaunchForm-input"
                  spellCheck={false}
                  autoComplete="off"
                  placeholder={plan?.rawOutputPrefix ?? 'default'}
                  value={settings.rawOutputPrefix}
                  onChange={e => updateSettings({ rawOutputPrefix: e.target.value }, isKey(SETTING_KEYS.rawOutputPrefix))}
                  onBlur={e => onBlurCheck(e, () => checkSettings(latest.current.settings, isKey(SETTING_KEYS.rawOutputPrefix)))}
                />
              )}
            </SettingField>
            <SettingField id={id('interruptible')} label="Interruptible" error={errors[SETTING_KEYS.interruptible]}
              hint="Whether tasks may run on workers that can be taken away (spot or preemptible)">
              {common => (
                <select
                  {...common}
                  className="plait-LaunchForm-input plait-LaunchForm-interruptible"
                  value={settings.interruptible}
                  onChange={e => updateSettings({ interruptible: e.target.value as SettingsDraft['interruptible'] })}
                >
                  <option value="">as each task says</option>
                  <option value="true">yes, every task</option>
                  <option value="false">no task</option>
                </select>
              )}
            </SettingField>
          </>
        )}
      </section>

      <div className="plait-LaunchForm-actions">
        {onCancel && (
          <button type="button" className="plait-LaunchForm-button" onClick={onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className="plait-LaunchForm-button plait-mod-accept" aria-busy={submitting || undefined} disabled={submitting}>
          Launch
        </button>
      </div>
    </form>
  );
}

interface ControlProps {
  id: string;
  'aria-describedby': string;
  'aria-invalid'?: boolean;
}

/** A labelled settings control with a hint and an error under it. */
function SettingField(props: {
  id: string;
  label: string;
  hint: string;
  error?: string;
  children: (common: ControlProps) => JSX.Element;
}): JSX.Element {
  const { id, error } = props;
  const describedBy = [`${id}-hint`, error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className={`plait-LaunchForm-field${error ? ' plait-mod-invalid' : ''}`}>
      <div className="plait-LaunchForm-fieldHead">
        <label htmlFor={id} className="plait-LaunchForm-name">
          {props.label}
        </label>
      </div>
      {props.children({ id, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined })}
      <div id={`${id}-hint`} className="plait-LaunchForm-hint">
        {props.hint}
      </div>
      {error && (
        <div id={`${id}-error`} className="plait-LaunchForm-error">
          {error}
        </div>
      )}
    </div>
  );
}
