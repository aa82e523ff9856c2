import { describe, expect, it } from 'vitest';

import { ApiError } from '../src/api/client';
import {
  arrange,
  checkForm,
  emptyForm,
  errorsOf,
  formFieldOf,
  formFromSpec,
  headingFor,
  listQuery,
  originOf,
  resourcesText,
  settled,
  specFromForm,
  switchedOn,
  vscodeUrl
} from '../src/workspaces/model';
import type { Workspace, WorkspaceSpecFields } from '../src/workspaces/types';

function workspace(name: string, extra: Partial<Workspace> = {}): Workspace {
  return {
    name,
    project: 'default',
    domain: 'development',
    description: '',
    spec: { name },
    phase: 'STOPPED',
    desired: 'STOPPED',
    reason: null,
    archived: false,
    active: false,
    url: null,
    pool: null,
    origin: null,
    restart_needed: false,
    resources: { cpu: '2', mem: '4Gi', gpu: null },
    accelerator: null,
    ttl_seconds: 1200,
    last_activity: null,
    started_at: null,
    stopped_at: null,
    saved_at: null,
    created_at: '2026-12-06T10:00:00Z',
    updated_at: '2026-12-06T10:00:00Z',
    ...extra
  };
}

const ROWS = [
  workspace('beta', { phase: 'ACTIVE', desired: 'ACTIVE', active: true, updated_at: '2026-12-06T10:05:00Z' }),
  workspace('alpha', { updated_at: '2026-12-06T10:01:00Z' }),
  workspace('gamma', { phase: 'ACTIVE', desired: 'ACTIVE', active: true, updated_at: '2026-12-06T10:09:00Z' }),
  workspace('old', { archived: true, updated_at: '2026-12-06T10:20:00Z' })
];

describe('the list', () => {
  it('sorts by name, or the most recently updated first', () => {
    const names = (filter: Parameters<typeof arrange>[1]) => arrange(ROWS, filter).map(w => w.name);
    expect(names({ activeOnly: false, recent: false, showArchived: false })).toEqual(['alpha', 'beta', 'gamma']);
    expect(names({ activeOnly: false, recent: true, showArchived: false })).toEqual(['gamma', 'beta', 'alpha']);
    expect(names({ activeOnly: true, recent: false, showArchived: false })).toEqual(['beta', 'gamma']);
    expect(names({ activeOnly: false, recent: true, showArchived: true })).toEqual(['old', 'gamma', 'beta', 'alpha']);
  });

  it('asks the server for what the toggles show', () => {
    expect(listQuery({ activeOnly: true, recent: true, showArchived: false })).toEqual({ active: true, archived: false, sort: 'updated' });
    expect(listQuery({ activeOnly: false, recent: false, showArchived: true })).toEqual({ archived: true, sort: 'name' });
  });

  it('writes a row’s resources, its GPU only when it has one', () => {
    expect(resourcesText(workspace('a'))).toBe('2 CPU · 4Gi');
    expect(resourcesText(workspace('a', { resources: { cpu: '500m', mem: '1Gi', gpu: '1' }, accelerator: 'nvidia-l4' }))).toBe(
      '500m CPU · 1Gi · 1 GPU (nvidia-l4)'
    );
  });

  it('opens VS Code under the lab’s base URL', () => {
    expect(vscodeUrl('/user/ann/', workspace('my-ws'))).toBe('/user/ann/plait/workspaces/default/development/my-ws/');
    expect(vscodeUrl('/', workspace('w', { project: 'ml' }))).toBe('/plait/workspaces/ml/development/w/');
  });

  it('says whether the switch is on and whether a change is on its way', () => {
    expect(switchedOn(workspace('a', { desired: 'ACTIVE', phase: 'STARTING' }))).toBe(true);
    expect(switchedOn(workspace('a', { desired: 'ACTIVE', phase: 'FAILED' }))).toBe(false);
    expect(headingFor(workspace('a', { desired: 'STOPPED', phase: 'ACTIVE' }))).toBe(true);
    expect(headingFor(workspace('a', { desired: 'ACTIVE', phase: 'ACTIVE' }))).toBe(false);
  });

  it('reads a debug workspace’s origin', () => {
    expect(originOf(workspace('d', { origin: { execution_id: 'ex1', node_id: 'n2', task: 'flows.fit' } }))).toEqual({
      execution_id: 'ex1',
      node_id: 'n2',
      task: 'flows.fit'
    });
    expect(originOf(workspace('d'))).toBeNull();
  });
});

const STORED: WorkspaceSpecFields = {
  name: 'train-ws',
  description: 'notebooks for training',
  project: 'ml',
  domain: 'staging',
  container_image: 'python:3.11-slim',
  resources: { cpu: '4', mem: '8Gi', gpu: '1' },
  accelerator: 'nvidia-l4',
  on_startup: ['pip install -r requirements.txt', 'echo ready'],
  ttl_seconds: 3600,
  secrets: [
    { key: 'hf_token', env_var: 'HF_TOKEN' },
    { key: 'db/password', env_var: 'DB_PASSWORD' }
  ],
  working_dir: 'src'
};

describe('the form and the spec', () => {
  it('round-trips a stored spec', () => {
    const form = formFromSpec(STORED);
    expect(form.on_startup).toBe('pip install -r requirements.txt\necho ready');
    expect(form.secrets).toEqual([
      { key: 'hf_token', env_var: 'HF_TOKEN' },
      { key: 'db/password', env_var: 'DB_PASSWORD' }
    ]);
    expect(specFromForm(form)).toEqual(STORED);
  });

  it('leaves out what is empty, drops blank lines and key-less secrets', () => {
    const form = {
      ...emptyForm(),
      name: ' my-ws ',
      cpu: '',
      gpu: '0',
      on_startup: 'make setup\n\n  \nmake test\n',
      ttl_seconds: '',
      secrets: [
        { key: 'api_key', env_var: '' },
        { key: '', env_var: '' }
      ]
    };
    expect(specFromForm(form)).toEqual({
      name: 'my-ws',
      description: '',
      project: 'default',
      domain: 'development',
      container_image: null,
      resources: { mem: '4Gi', gpu: null },
      accelerator: null,
      on_startup: ['make setup', 'make test'],
      secrets: [{ key: 'api_key' }],
      working_dir: 'workspace'
    });
  });

  it('keeps ImageSpec fields unless an image name is typed over them', () => {
    const image = { base_image: 'python:3.12-slim', packages: ['polars'] };
    const form = formFromSpec({ name: 'w', container_image: image, on_startup: 'echo one' });
    expect(form.container_image).toBe('');
    expect(form.on_startup).toBe('echo one');
    expect(specFromForm(form).container_image).toEqual(image);
    expect(specFromForm({ ...form, container_image: 'ghcr.io/me/img:1' }).container_image).toBe('ghcr.io/me/img:1');
  });

  it('finds a missing name, a TTL that is not whole seconds, a variable without a secret', () => {
    const problems = checkForm({ ...emptyForm(), ttl_seconds: '20m', secrets: [{ key: '', env_var: 'TOKEN' }] });
    expect(Object.keys(problems).sort()).toEqual(['name', 'secrets.0.key', 'ttl_seconds']);
    expect(problems.ttl_seconds).toBe('Expected a whole number of seconds, found “20m”.');
    expect(checkForm({ ...emptyForm(), name: 'ok' })).toEqual({});
  });
});

describe('errors next to their field', () => {
  it('maps the server’s field names to the form’s', () => {
    const cases: Array<[string | null, string]> = [
      ['resources.mem', 'mem'],
      ['resources.gpu', 'gpu'],
      ['resources', 'cpu'],
      ['secrets[1].env_var', 'secrets.1.env_var'],
      ['secrets[0]', 'secrets.0.key'],
      ['secrets', 'secrets'],
      ['container_image.packages', 'container_image'],
      ['ttl_seconds', 'ttl_seconds'],
      ['name', 'name'],
      ['spec', ''],
      [null, '']
    ];
    for (const [field, key] of cases) {
      expect([field, formFieldOf(field)]).toEqual([field, key]);
    }
  });

  it('puts a refused save’s message on the field it names, or over the form', () => {
    const refused = new ApiError(
      422,
      { error: 'invalid_field', field: 'resources.mem', message: "workspace.yaml: resources.mem: expected a memory amount, found 'lots'" },
      'POST workspaces'
    );
    expect(errorsOf(refused)).toEqual({ mem: "workspace.yaml: resources.mem: expected a memory amount, found 'lots'" });
    expect(errorsOf(new ApiError(409, { error: 'conflict', message: 'workspace w exists' }, 'POST workspaces'))).toEqual({
      '': 'workspace w exists'
    });
    expect(errorsOf(new Error('offline'))).toEqual({ '': 'offline' });
  });
});

describe('polling', () => {
  it('goes on while a workspace is starting, stopping, or asked to and not there yet', () => {
    expect(settled(workspace('a', { phase: 'STARTING', desired: 'ACTIVE' }))).toBe(false);
    expect(settled(workspace('a', { phase: 'STOPPED', desired: 'ACTIVE' }))).toBe(false);
    expect(settled(workspace('a', { phase: 'ACTIVE', desired: 'ACTIVE' }))).toBe(true);
    expect(settled(workspace('a', { phase: 'FAILED', desired: 'ACTIVE' }))).toBe(true);
    expect(settled(workspace('a', { phase: 'STOPPED', desired: 'STOPPED' }))).toBe(true);
  });
});
