import * as React from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';

import { Entity, Execution, PlaitClient, Transport } from '../src/api/client';
import { ExecutionView } from '../src/execution/ExecutionView';
import { LaunchForm, LaunchTarget } from '../src/launch/LaunchForm';
import { inputFields, launchPlanInfo } from '../src/launch/model';
import { prefillInputs, prefillSettings, refLiteral } from '../src/launch/prefill';

afterEach(cleanup);

const INPUTS = {
  values: { type: { kind: 'list', of: { kind: 'integer' } }, required: true },
  label: { type: { kind: 'string' }, required: false, default: 'sum' },
  floor: { type: { kind: 'integer' }, required: false, default: 0 },
  when: { type: { kind: 'optional', of: { kind: 'datetime' } }, required: false, default: null }
};

function entity(kind: Entity['kind'], name: string, spec: Record<string, unknown>, version = 'v1'): Entity {
  return {
    archived: false,
    bundle_digest: null,
    created_at: '2024-05-01T12:00:00Z',
    description: '',
    digest: 'd'.repeat(64),
    domain: 'development',
    kind,
    name,
    project: 'default',
    spec: { kind, name, version, ...spec },
    version
  };
}

function plan(name: string, extra: Record<string, unknown> = {}): Entity {
  return entity('launch_plan', name, {
    workflow: 'lab.report',
    interface: { inputs: INPUTS, outputs: {} },
    default_inputs: {},
    fixed_inputs: {},
    labels: null,
    annotations: null,
    max_parallelism: null,
    overwrite_cache: null,
    ...extra
  });
}

const ENTITIES: Record<string, Entity> = {
  'workflows/lab.report': entity('workflow', 'lab.report', { interface: { inputs: INPUTS, outputs: {} }, nodes: [] }),
  'workflows/lab.none': entity('workflow', 'lab.none', { interface: { inputs: {}, outputs: {} }, nodes: [] }),
  'launch_plans/lab.report': plan('lab.report'),
  'launch_plans/lab.none': { ...plan('lab.none'), spec: { ...plan('lab.none').spec, workflow: 'lab.none', interface: { inputs: {} } } },
  'launch_plans/report_team': plan('report_team', {
    default_inputs: { floor: 5 },
    labels: { values: { team: 'ml' } },
    annotations: { values: { owner: 'ana' } },
    max_parallelism: 4
  }),
  'launch_plans/report_fixed': plan('report_fixed', { fixed_inputs: { values: [1] } })
};

const PAST: Execution = {
  id: 'ex-old',
  project: 'default',
  domain: 'development',
  entity: { kind: 'workflow', name: 'lab.report', version: 'v1' },
  launch_plan: { kind: 'launch_plan', name: 'report_team', version: 'v1' },
  phase: 'SUCCEEDED',
  inputs: {
    values: { literal: [4, 5, 6], hash: 'h1' },
    label: { literal: 'total', hash: 'h2' },
    floor: { literal: 5, hash: 'h3' },
    when: { literal: { __datetime__: '2024-05-01T12:00:00' }, hash: 'h4' }
  },
  outputs: null,
  error: null,
  settings: {
    overwrite_cache: true,
    max_parallelism: 4,
    envs: { DEBUG: '1' },
    labels: { team: 'ml', run: 'nightly' },
    annotations: { owner: 'ana', note: 'first try' },
    raw_output_prefix: 'team-a/raw',
    interruptible: false
  },
  parent_execution_id: null,
  parent_node_path: null,
  abort_requested: false,
  created_at: '2024-05-01T12:00:00Z',
  started_at: '2024-05-01T12:00:00Z',
  ended_at: '2024-05-01T12:00:05Z',
  duration_s: 5
};

const LAUNCHED = { id: 'ex-new', phase: 'QUEUED' } as unknown as Execution;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

interface Call {
  method: string;
  url: string;
  body?: any;
}

function backend(executions: Record<string, Execution> = { 'ex-old': PAST }) {
  const calls: Call[] = [];
  const transport: Transport = async (url, init) => {
    const [path] = url.split('?');
    const call: Call = { method: init.method ?? 'GET', url };
    calls.push(call);
    if (call.method === 'POST' && path === 'executions') {
      call.body = JSON.parse(String(init.body));
      return json(201, LAUNCHED);
    }
    if (path === 'launch_plans') {
      const workflow = new URLSearchParams(url.split('?')[1]).get('workflow');
      const items = Object.entries(ENTITIES)
        .filter(([k, lp]) => k.startsWith('launch_plans/') && (lp.spec as { workflow: string }).workflow === workflow)
        .map(([, lp]) => lp);
      return json(200, { items, limit: 500, offset: 0, next_offset: null });
    }
    const execution = path.startsWith('executions/') ? executions[decodeURIComponent(path.slice('executions/'.length))] : undefined;
    if (execution) {
      return json(200, execution);
    }
    if (path.endsWith('/nodes')) {
      return json(200, { nodes: [] });
    }
    const found = ENTITIES[decodeURIComponent(path)];
    return found ? json(200, found) : json(404, { error: 'not_found', message: `no ${path}` });
  };
  return { client: new PlaitClient(transport), calls, posts: () => calls.filter(c => c.method === 'POST') };
}

function renderForm(target: LaunchTarget, fromExecution?: string, executions?: Record<string, Execution>) {
  const fake = backend(executions);
  const onLaunched = vi.fn();
  render(<LaunchForm client={fake.client} target={target} fromExecution={fromExecution} onLaunched={onLaunched} />);
  return { ...fake, onLaunched };
}

const text = (name: string) => screen.getByRole('textbox', { name }) as HTMLInputElement;

describe('prefill model', () => {
  it('reads literals out of value refs, and nothing out of the object store', () => {
    expect(refLiteral({ literal: [1, 2], hash: 'h' })).toEqual([1, 2]);
    expect(refLiteral({ literal: { a: [1, 2] }, path: ['a', 1] })).toBe(2);
    expect(refLiteral({ collection: [{ literal: 1 }, { literal: 2 }] })).toEqual([1, 2]);
    expect(refLiteral({ mapping: { x: { literal: 'a' } } })).toEqual({ x: 'a' });
    expect(refLiteral({ collection: [{ literal: 1 }, { uri: 's3://b/k', format: 'pickle' }] })).toBeUndefined();
    expect(refLiteral({ uri: 's3://b/k', format: 'pickle' })).toBeUndefined();
  });

  it('writes the inputs as the fields show them, and says what it left out', () => {
    const fields = inputFields(INPUTS);
    const { values, notes } = prefillInputs(fields, {
      values: { uri: 'executions/ex-0/n0/1/o0.pkl', format: 'pickle', preview: '[1, 2, …]' },
      label: { literal: 'total' },
      when: { literal: null },
      gone: { literal: 1 }
    });
    expect(values).toEqual({ label: 'total', when: '' });
    expect(notes).toEqual([
      "values: the execution's value ([1, 2, …]) is kept in the object store and is not read back here; the field shows no value",
      'gone: the execution had this input, which this version does not take; it is left out'
    ]);
  });

  it("leaves to the launch plan what it sets, and the name to the server", () => {
    const lp = launchPlanInfo(ENTITIES['launch_plans/report_team'].spec);
    const draft = prefillSettings(PAST.settings, lp);
    expect(draft).toMatchObject({
      name: '',
      overwriteCache: true,
      maxParallelism: '', // the plan's 4
      rawOutputPrefix: 'team-a/raw',
      interruptible: 'false'
    });
    expect(draft.envs.map(r => [r.key, r.value])).toEqual([['DEBUG', '1']]);
    expect(draft.labels.map(r => [r.key, r.value])).toEqual([['run', 'nightly']]);
    expect(draft.annotations.map(r => [r.key, r.value])).toEqual([['note', 'first try']]);
    expect(prefillSettings(PAST.settings, null).maxParallelism).toBe('4');
  });
});

describe('LaunchForm from an execution', () => {
  it('fills the fields and settings, and launches what was kept with what changed', async () => {
    const { posts, onLaunched } = renderForm({ kind: 'launch_plan', name: 'report_team', version: 'v1' }, 'ex-old');
    expect((await screen.findByText('Prefilled from execution ex-old')).closest('[role="status"]')).toBeTruthy();
    expect(text('values').value).toBe('[4,5,6]');
    expect(text('label').value).toBe('total');
    expect(text('floor').value).toBe('5');
    expect(text('when').value).toBe('2024-05-01T12:00:00');
    expect(text('Execution name').value).toBe('');
    expect((screen.getByRole('checkbox', { name: 'Overwrite cached outputs' }) as HTMLInputElement).checked).toBe(true);
    expect(text('Environment variable 1 name').value).toBe('DEBUG');
    expect(text('Label 1 key').value).toBe('run');
    expect(screen.queryByRole('textbox', { name: 'Label 2 key' })).toBeNull(); // team=ml comes from the plan
    expect(text('Annotation 1 value').value).toBe('first try');
    expect(text('Raw output prefix').value).toBe('team-a/raw');
    expect((screen.getByRole('combobox', { name: 'Interruptible' }) as HTMLSelectElement).value).toBe('false');

    fireEvent.change(text('label'), { target: { value: 'mean' } });
    fireEvent.click(screen.getByRole('button', { name: 'Launch' }));
    await waitFor(() => expect(onLaunched).toHaveBeenCalledWith(LAUNCHED));
    expect(posts().map(p => p.body)).toEqual([
      {
        kind: 'launch_plan',
        name: 'report_team',
        version: 'v1',
        project: 'default',
        domain: 'development',
        inputs: { values: [4, 5, 6], label: 'mean', when: { __datetime__: '2024-05-01T12:00:00' } },
        settings: {
          overwrite_cache: true,
          envs: { DEBUG: '1' },
          labels: { run: 'nightly' },
          annotations: { note: 'first try' },
          raw_output_prefix: 'team-a/raw',
          interruptible: false
        }
      }
    ]);
  });

  it('says when the execution cannot be read, and starts from the defaults', async () => {
    renderForm({ kind: 'workflow', name: 'lab.report' }, 'ex-gone');
    const status = await screen.findByText(/^Prefilled from execution ex-gone/);
    expect(status.closest('[role="status"]')?.textContent).toContain(
      'Execution ex-gone could not be read (no executions/ex-gone); the form starts from the defaults.'
    );
    expect(text('label').value).toBe('sum');
  });
});

describe('LaunchForm focus and launch plans', () => {
  it('focuses the first input when it opens', async () => {
    renderForm({ kind: 'workflow', name: 'lab.report' });
    const values = await screen.findByRole('textbox', { name: 'values' });
    await waitFor(() => expect(document.activeElement).toBe(values));
    // Focus passing on without typing does not mark the required field.
    fireEvent.blur(values);
    expect(values.getAttribute('aria-invalid')).toBeNull();
  });

  it('focuses the first input the launch plan leaves open', async () => {
    renderForm({ kind: 'launch_plan', name: 'report_fixed' });
    const label = await screen.findByRole('textbox', { name: 'label' });
    await waitFor(() => expect(document.activeElement).toBe(label));
  });

  it('focuses the launch plan picker when there are no inputs', async () => {
    renderForm({ kind: 'workflow', name: 'lab.none' });
    const picker = await screen.findByRole('combobox', { name: 'Launch plan' });
    await waitFor(() => expect(document.activeElement).toBe(picker));
  });

  it('keeps a wrong value and its mark when the launch plan changes', async () => {
    renderForm({ kind: 'workflow', name: 'lab.report' });
    const floor = await screen.findByRole('textbox', { name: 'floor' });
    fireEvent.change(floor, { target: { value: 'ten' } });
    fireEvent.blur(floor);
    const message = 'floor expects int: "ten" is not an integer';
    expect(screen.getByText(message)).toBeTruthy();
    const values = text('values');
    fireEvent.change(values, { target: { value: '[1, "a"]' } });
    fireEvent.blur(values);

    fireEvent.change(screen.getByRole('combobox', { name: 'Launch plan' }), { target: { value: 'report_team' } });
    const after = text('floor');
    expect(after.value).toBe('ten');
    expect(after.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText(message)).toBeTruthy();
    expect(text('values').getAttribute('aria-invalid')).toBe('true');

    // A field the new plan fixes shows the plan's value, without a mark.
    fireEvent.change(screen.getByRole('combobox', { name: 'Launch plan' }), { target: { value: 'report_fixed' } });
    expect(text('values').readOnly).toBe(true);
    expect(text('values').getAttribute('aria-invalid')).toBeNull();
    expect(text('floor').getAttribute('aria-invalid')).toBe('true');

    // Fixed by the user, the mark goes; back on a plan, the text stays and is not marked.
    fireEvent.change(text('floor'), { target: { value: '3' } });
    fireEvent.change(screen.getByRole('combobox', { name: 'Launch plan' }), { target: { value: 'lab.report' } });
    expect(text('floor').value).toBe('3');
    expect(text('floor').getAttribute('aria-invalid')).toBeNull();
  });
});

describe('ExecutionView', () => {
  it('offers "Relaunch with changes" next to Relaunch', async () => {
    const { client } = backend();
    const onRelaunchWithChanges = vi.fn();
    render(<ExecutionView client={client} executionId="ex-old" onRelaunchWithChanges={onRelaunchWithChanges} />);
    const header = await screen.findByRole('region', { name: 'Execution ex-old' });
    const buttons = within(header).getAllByRole('button').map(b => b.textContent);
    expect(buttons.slice(buttons.indexOf('Relaunch'), buttons.indexOf('Relaunch') + 2)).toEqual([
      'Relaunch',
      'Relaunch with changes'
    ]);
    fireEvent.click(within(header).getByRole('button', { name: 'Relaunch with changes' }));
    expect(onRelaunchWithChanges).toHaveBeenCalledWith(expect.objectContaining({ id: 'ex-old' }));
  });

  it('has no such button without a handler', async () => {
    const { client } = backend();
    render(<ExecutionView client={client} executionId="ex-old" />);
    await screen.findByRole('region', { name: 'Execution ex-old' });
    expect(screen.queryByRole('button', { name: 'Relaunch with changes' })).toBeNull();
  });
});
