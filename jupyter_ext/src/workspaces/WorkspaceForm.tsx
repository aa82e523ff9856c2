/**
 * The create and edit form of a workspace: one input per field of
 * `workspace.yaml` (name, description, project, domain, container image,
 * CPU, memory, GPU, accelerator, startup commands, idle TTL, secrets,
 * working directory). Editing reads the stored spec and keeps the name; an
 * ImageSpec image (a mapping in the yaml) is kept as it is unless an image
 * name is typed over it. The server checks the spec: what it refuses shows
 * next to the field it names.
 */
import * as React from 'react';

import { ApiError, type PlaitClient } from '../api/client';
import { createWorkspace, getWorkspace, updateWorkspace, type Scope } from './api';
import { workspacesChanged } from './changes';
import { checkForm, emptyForm, errorsOf, formFromSpec, specFromForm, type FieldErrors, type SpecForm } from './model';
import type { Workspace, WorkspaceSpecFields } from './types';

export interface WorkspaceFormProps {
  client: PlaitClient;
  /** Edit this workspace (its name stays); a new one without it. */
  name?: string;
  scope?: Scope;
  onSaved: (ws: Workspace) => void;
  onCancel: () => void;
}

type Loaded = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; form: SpecForm; ws?: Workspace };

type TextKey = Exclude<keyof SpecForm, 'secrets' | 'image_spec'>;

interface FieldDef {
  key: TextKey;
  label: string;
  hint: string;
  placeholder?: string;
  multiline?: boolean;
  code?: boolean;
}

const GENERAL: FieldDef[] = [
  { key: 'name', label: 'Name', hint: 'Lower-case letters, digits, - and _; it is part of the workspace’s address.', placeholder: 'my-workspace' },
  { key: 'description', label: 'Description', hint: 'What the workspace is for.' },
  { key: 'project', label: 'Project', hint: 'The project it belongs to.' },
  { key: 'domain', label: 'Domain', hint: 'development, staging or production.' }
];
const ENVIRONMENT: FieldDef[] = [
  {
    key: 'container_image',
    label: 'Container image',
    hint: 'An image name; empty for the server’s own Python environment. ImageSpec fields are set in workspace.yaml.',
    code: true
  },
  { key: 'working_dir', label: 'Working directory', hint: 'The folder, relative to the workspace’s home, that is saved on stop and restored on start.', code: true }
];
const RESOURCES: FieldDef[] = [
  { key: 'cpu', label: 'CPU', hint: 'Cores: 2, 500m.', code: true },
  { key: 'mem', label: 'Memory', hint: '4Gi, 512Mi.', code: true },
  { key: 'gpu', label: 'GPU', hint: 'Whole GPUs; empty for none.', code: true },
  { key: 'accelerator', label: 'Accelerator', hint: 'A GPU device name such as nvidia-l4 (needs a GPU).', code: true }
];
const STARTUP: FieldDef[] = [
  { key: 'on_startup', label: 'On startup', hint: 'Shell commands run before the workspace is ACTIVE, one a line.', multiline: true, code: true },
  { key: 'ttl_seconds', label: 'Idle TTL (seconds)', hint: 'It stops after this long without use (its folder is saved first).', code: true }
];

export function WorkspaceForm(props: WorkspaceFormProps): JSX.Element {
  const { client, name } = props;
  const editing = name !== undefined;
  const project = props.scope?.project;
  const domain = props.scope?.domain;
  const [loaded, setLoaded] = React.useState<Loaded>(editing ? { state: 'loading' } : { state: 'ready', form: emptyForm(props.scope) });
  const [errors, setErrors] = React.useState<FieldErrors>({});
  const [start, setStart] = React.useState(true);
  const [saving, setSaving] = React.useState(false);

  React.useEffect(() => {
    if (!editing) {
      return;
    }
    let live = true;
    getWorkspace(client, name, { project, domain })
      .then(ws => live && setLoaded({ state: 'ready', form: formFromSpec(ws.spec as unknown as WorkspaceSpecFields), ws }))
      .catch(e => live && setLoaded({ state: 'error', message: e instanceof Error ? e.message : String(e) }));
    return () => {
      live = false;
    };
  }, [client, name, project, domain]);

  if (loaded.state === 'loading') {
    return <p className="plait-Muted">Loading workspace {name}…</p>;
  }
  if (loaded.state === 'error') {
    return (
      <p role="alert" className="plait-Error">
        Workspace {name}: {loaded.message}
      </p>
    );
  }
  const form = loaded.form;
  const change = (patch: Partial<SpecForm>) => setLoaded({ ...loaded, form: { ...form, ...patch } });

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const found = checkForm(form);
    setErrors(found);
    if (Object.keys(found).length) {
      return;
    }
    setSaving(true);
    const spec = specFromForm(form);
    const saved = editing ? updateWorkspace(client, spec, { project: form.project, domain: form.domain }) : createWorkspace(client, spec, start);
    saved
      .then(ws => {
        workspacesChanged();
        props.onSaved(ws);
      })
      .catch(error => {
        const mapped = errorsOf(error);
        // A name taken in this project and domain: the server names no field.
        if (error instanceof ApiError && error.status === 409 && !editing && mapped['']) {
          setErrors({ name: mapped[''] });
        } else {
          setErrors(mapped);
        }
      })
      .finally(() => setSaving(false));
  };

  const field = (def: FieldDef) => (
    <TextField
      key={def.key}
      def={def}
      value={form[def.key]}
      error={errors[def.key]}
      readOnly={editing && (def.key === 'name' || def.key === 'project' || def.key === 'domain')}
      onChange={value => change({ [def.key]: value } as Partial<SpecForm>)}
    />
  );

  return (
    <form className="plait-LaunchForm plait-WorkspaceForm" aria-label={editing ? `Edit workspace ${name}` : 'New workspace'} onSubmit={submit} noValidate>
      <header className="plait-LaunchForm-header">
        <h2 className="plait-LaunchForm-title">{editing ? `Edit workspace ${name}` : 'New workspace'}</h2>
        <div className="plait-LaunchForm-meta">
          {editing
            ? 'Everything but the name can change; a running workspace takes the changes at its next start.'
            : 'The fields of workspace.yaml: the server checks them and starts VS Code in the browser.'}
        </div>
      </header>
      {errors[''] && (
        <div role="alert" className="plait-LaunchForm-banner">
          {errors['']}
        </div>
      )}
      <section className="plait-LaunchForm-section" aria-label="General">
        <h3 className="plait-LaunchForm-sectionTitle">General</h3>
        {GENERAL.map(field)}
      </section>
      <section className="plait-LaunchForm-section" aria-label="Environment">
        <h3 className="plait-LaunchForm-sectionTitle">Environment</h3>
        {ENVIRONMENT.slice(0, 1).map(field)}
        {form.image_spec && !form.container_image && (
          <p className="plait-LaunchForm-hint" role="note">
            The image is built from ImageSpec fields ({Object.keys(form.image_spec).join(', ') || 'none'}), kept as they are; change
            them in workspace.yaml.
          </p>
        )}
        {ENVIRONMENT.slice(1).map(field)}
      </section>
      <section className="plait-LaunchForm-section" aria-label="Resources">
        <h3 className="plait-LaunchForm-sectionTitle">Resources</h3>
        <div className="plait-WorkspaceForm-grid">{RESOURCES.map(field)}</div>
      </section>
      <section className="plait-LaunchForm-section" aria-label="Startup">
        <h3 className="plait-LaunchForm-sectionTitle">Startup and idle time</h3>
        {STARTUP.map(field)}
      </section>
      <section className="plait-LaunchForm-section" aria-label="Secrets">
        <h3 className="plait-LaunchForm-sectionTitle">Secrets</h3>
        <SecretRows rows={form.secrets} errors={errors} onChange={secrets => change({ secrets })} />
      </section>
      <div className="plait-LaunchForm-section plait-WorkspaceForm-actions">
        {!editing && (
          <label className="plait-Check">
            <input type="checkbox" checked={start} onChange={e => setStart(e.target.checked)} /> Start it now
          </label>
        )}
        <button type="submit" className="jp-Button jp-mod-styled jp-mod-accept" disabled={saving}>
          {saving ? 'Saving…' : editing ? 'Save' : 'Create workspace'}
        </button>
        <button type="button" className="jp-Button jp-mod-styled" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function TextField(props: { def: FieldDef; value: string; error?: string; readOnly: boolean; onChange: (value: string) => void }): JSX.Element {
  const { def, error } = props;
  const id = `plait-ws-${def.key}`;
  const className = `plait-LaunchForm-input${def.code ? ' plait-LaunchForm-json' : ''}`;
  const common = {
    id,
    className,
    value: props.value,
    readOnly: props.readOnly,
    placeholder: def.placeholder,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? `${id}-error ${id}-hint` : `${id}-hint`,
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => props.onChange(e.target.value)
  };
  return (
    <div className={`plait-LaunchForm-field${error ? ' plait-mod-invalid' : ''}`}>
      <label htmlFor={id} className="plait-LaunchForm-name">
        {def.label}
      </label>
      {def.multiline ? <textarea rows={3} {...common} /> : <input type="text" {...common} />}
      {error && (
        <div id={`${id}-error`} className="plait-LaunchForm-error" role="alert">
          {error}
        </div>
      )}
      <div id={`${id}-hint`} className="plait-LaunchForm-hint">
        {def.hint}
      </div>
    </div>
  );
}

/** The secrets: one row each of the store's key and the environment variable it becomes. */
function SecretRows(props: { rows: SecretRow[]; errors: FieldErrors; onChange: (rows: SecretRow[]) => void }): JSX.Element {
  const { rows, errors } = props;
  const set = (i: number, patch: Partial<SecretRow>) => props.onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="plait-LaunchForm-kvGroup" aria-label="Secrets" aria-describedby="plait-ws-secrets-hint">
      {rows.map((row, i) => {
        const keyError = errors[`secrets.${i}.key`];
        const envError = errors[`secrets.${i}.env_var`];
        return (
          <div key={i} className="plait-LaunchForm-kvRow">
            <div className="plait-LaunchForm-kvInputs">
              <input
                className="plait-LaunchForm-input"
                aria-label={`Secret ${i + 1} key`}
                placeholder="key in the secret store"
                value={row.key}
                aria-invalid={keyError ? true : undefined}
                onChange={e => set(i, { key: e.target.value })}
              />
              <input
                className="plait-LaunchForm-input"
                aria-label={`Secret ${i + 1} environment variable`}
                placeholder="ENV_VAR (default: the key upper-cased)"
                value={row.env_var}
                aria-invalid={envError ? true : undefined}
                onChange={e => set(i, { env_var: e.target.value })}
              />
              <button
                type="button"
                className="plait-LaunchForm-iconButton"
                aria-label={`Remove secret ${i + 1}`}
                onClick={() => props.onChange(rows.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </div>
            {(keyError || envError) && (
              <div className="plait-LaunchForm-error" role="alert">
                {keyError ?? envError}
              </div>
            )}
          </div>
        );
      })}
      {errors.secrets && (
        <div className="plait-LaunchForm-error" role="alert">
          {errors.secrets}
        </div>
      )}
      <button type="button" className="plait-LaunchForm-addButton" onClick={() => props.onChange([...rows, { key: '', env_var: '' }])}>
        Add secret
      </button>
      <div id="plait-ws-secrets-hint" className="plait-LaunchForm-hint">
        Secrets from the server’s store become environment variables inside the workspace only.
      </div>
    </fieldset>
  );
}

type SecretRow = SpecForm['secrets'][number];
