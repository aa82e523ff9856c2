import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it } from 'vitest';

import { PlaitClient, Transport } from '../src/api/client';
import { EntityList, rowKeyTarget, rowMeta, runTitle } from '../src/sidebar/EntityList';
import { Sidebar } from '../src/sidebar/Sidebar';
import { EntityView } from '../src/workflow/EntityView';
import { docstring, inputRows, outputRows, taskSettingRows } from '../src/workflow/spec';

const noop = () => undefined;

/** A backend answering GET routes from `routes` (path without query → body); lists default to empty. */
function backend(routes: Record<string, unknown> = {}): PlaitClient {
  const transport: Transport = async url => {
    const path = url.split('?')[0];
    const body = path in routes ? routes[path] : { items: [], limit: 50, offset: 0, next_offset: null };
    return new Response(JSON.stringify(body), { status: 200 });
  };
  return new PlaitClient(transport);
}

function page(items: unknown[]) {
  return { items, limit: 500, offset: 0, next_offset: null };
}

function item(name: string, recent: unknown[] = []) {
  return {
    kind: 'task',
    project: 'default',
    domain: 'development',
    name,
    version: 'v1',
    description: '',
    archived: false,
    created_at: '2030-01-01T12:00:00Z',
    version_count: 1,
    recent,
    last_execution_at: (recent[0] as { created_at?: string } | undefined)?.created_at ?? null
  };
}

const SQUARE = {
  kind: 'task',
  name: 'pipelines.square',
  version: 'v1',
  interface: {
    inputs: { x: { type: { kind: 'integer' }, required: true }, scale: { type: { kind: 'float' }, required: false, default: 1.5 } },
    outputs: { o0: { kind: 'float' } }
  },
  settings: {
    retries: 3,
    timeout: 120,
    cache: { version: '2', serialize: false, ignored_inputs: [], resolved_version: '2' },
    requests: { cpu: '2', mem: '4Gi' },
    limits: null,
    accelerator: null,
    container_image: 'ghcr.io/acme/train:1',
    secret_requests: [{ group: 'db', key: 'password' }],
    environment: {},
    interruptible: null
  },
  docs: { short: 'Square x, scaled.', long: 'Square x, scaled.\n\nArgs:\n    x: the number' }
};

describe('an empty entity list', () => {
  afterEach(cleanup);

  it('says how to register a workflow, from a notebook or a terminal', async () => {
    render(<EntityList client={backend()} kind="workflow" generation={0} onOpen={noop} onOpenExecution={noop} />);
    const status = await screen.findByRole('status');
    expect(status.textContent).toContain('No workflows registered yet.');
    expect(status.textContent).toContain('%plait launch NAME');
    expect(status.textContent).toContain('plait register FILE');
    expect(status.textContent).toContain('@workflow');
  });

  it('tells launch plans apart: a default per workflow, others with LaunchPlan.get_or_create, Launch to run', async () => {
    render(<EntityList client={backend()} kind="launch_plan" generation={0} onOpen={noop} onOpenExecution={noop} />);
    const status = await screen.findByRole('status');
    expect(status.textContent).toContain('No launch plans registered yet.');
    expect(status.textContent).toContain('default launch plan');
    expect(status.textContent).toContain('LaunchPlan.get_or_create(...)');
    expect(status.textContent).toContain('press Launch');
  });

  it('says what a search that matches nothing searched, and where archived ones are', async () => {
    render(<EntityList client={backend()} kind="task" generation={0} onOpen={noop} onOpenExecution={noop} />);
    fireEvent.change(screen.getByRole('searchbox', { name: 'Search tasks' }), { target: { value: 'trian' } });
    await waitFor(() => expect(screen.getByRole('status').textContent).toContain('No tasks match “trian”.'));
    expect(screen.getByRole('status').textContent).toContain('archived ones show with Archived ticked');
    fireEvent.click(screen.getByRole('checkbox', { name: 'Archived' }));
    await waitFor(() => expect(screen.getByRole('status').textContent).toContain('No archived tasks match “trian”.'));
  });
});

describe('last runs', () => {
  afterEach(cleanup);

  const inWorkflow = {
    id: 'run-7',
    phase: 'FAILED',
    created_at: '2030-01-01T12:01:00Z',
    duration_s: 4,
    node_path: 'n2',
    workflow: 'pipelines.train'
  };
  const alone = { id: 'run-3', phase: 'SUCCEEDED', created_at: '2030-01-01T12:00:00Z', duration_s: 1, node_path: null, workflow: null };

  it("name the workflow and node a task ran in, in the strip's cells and the row's last run", async () => {
    const client = backend({ tasks: page([item('pipelines.square', [inWorkflow, alone])]) });
    const opened: string[] = [];
    render(<EntityList client={client} kind="task" generation={0} onOpen={noop} onOpenExecution={id => opened.push(id)} />);
    const cell = await screen.findByRole('listitem', { name: 'Execution run-7: FAILED (node n2 of pipelines.train)' });
    expect(screen.getByRole('listitem', { name: 'Execution run-3: SUCCEEDED' })).toBeTruthy();
    const row = screen.getByRole('button', { name: 'Open task pipelines.square' });
    expect(row.textContent).toMatch(/^squarelast run \S+ ago in train · 1 version · pipelines$/);
    fireEvent.click(cell);
    expect(opened).toEqual(['run-7']);
  });

  it('come first on the second line of a row, before the versions, archived and the module', () => {
    const quiet = { ...item('tools.clean'), version_count: 2, archived: true };
    expect(rowMeta(quiet as never)).toBe('never run · 2 versions · archived · tools');
    const now = Date.parse('2030-01-01T12:00:30Z');
    expect(rowMeta(item('flat', [alone]) as never, now)).toBe('last run 30s ago · 1 version');
  });

  it('have tooltips that say where the entity ran', () => {
    const now = Date.parse('2030-01-01T12:03:00Z');
    expect(runTitle(inWorkflow as never, now)).toBe('run-7: FAILED as node n2 of train, 2m ago');
    expect(runTitle(alone as never, now)).toBe('run-3: SUCCEEDED, 3m ago');
  });
});

describe('the keyboard in an entity list', () => {
  afterEach(cleanup);

  it('moves between rows with the arrows, Home and End, and stays on the ends', async () => {
    const client = backend({ tasks: page(['a.one', 'a.two', 'a.three'].map(n => item(n))) });
    render(<EntityList client={client} kind="task" generation={0} onOpen={noop} onOpenExecution={noop} />);
    const one = await screen.findByRole('button', { name: 'Open task a.one' });
    const two = screen.getByRole('button', { name: 'Open task a.two' });
    const three = screen.getByRole('button', { name: 'Open task a.three' });
    one.focus();
    fireEvent.keyDown(one, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(two);
    fireEvent.keyDown(two, { key: 'End' });
    expect(document.activeElement).toBe(three);
    fireEvent.keyDown(three, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(three);
    fireEvent.keyDown(three, { key: 'Home' });
    expect(document.activeElement).toBe(one);
    fireEvent.keyDown(one, { key: 'ArrowUp' });
    expect(document.activeElement).toBe(one);
  });

  it('leaves other keys alone', () => {
    expect(rowKeyTarget('Enter', 1, 3)).toBeNull();
    expect(rowKeyTarget('ArrowUp', 2, 3)).toBe(1);
  });
});

describe('the sidebar refresh button', () => {
  afterEach(cleanup);

  it("shows JupyterLab's refresh icon, not a text glyph, and reloads the list", async () => {
    let asked = 0;
    const plait = backend();
    const counting = new PlaitClient(async (url, init) => {
      asked += url.startsWith('workflows') ? 1 : 0;
      return plait.transport(url, init);
    });
    render(<Sidebar client={counting} onOpenEntity={noop} onOpenExecution={noop} />);
    const refresh = screen.getByRole('button', { name: 'Refresh' });
    expect(refresh.querySelector('svg[data-icon="ui-components:refresh"]')).not.toBeNull();
    expect(refresh.textContent).toBe('');
    await waitFor(() => expect(asked).toBe(1));
    fireEvent.click(refresh);
    await waitFor(() => expect(asked).toBe(2));
  });
});

describe('what a spec says', () => {
  it('reads the interface: types as Python spells them, defaults, required inputs, outputs', () => {
    expect(inputRows(SQUARE)).toEqual([
      { name: 'x', type: 'int', default: 'required', fixed: false },
      { name: 'scale', type: 'float', default: '1.5', fixed: false }
    ]);
    expect(outputRows(SQUARE)).toEqual([{ name: 'o0', type: 'float' }]);
  });

  it("lays a launch plan's defaults and fixed inputs over the workflow's", () => {
    const plan = { ...SQUARE, kind: 'launch_plan', default_inputs: { x: 4 }, fixed_inputs: { scale: 2 } };
    expect(inputRows(plan)).toEqual([
      { name: 'x', type: 'int', default: '4', fixed: false },
      { name: 'scale', type: 'float', default: '2.0', fixed: true }
    ]);
  });

  it("reads a task's retries, cache, timeout and resources, and says what is not set", () => {
    expect(taskSettingRows(SQUARE)).toEqual([
      { label: 'Retries', value: '3 (4 attempts in all)' },
      { label: 'Cache', value: 'on, version 2' },
      { label: 'Timeout', value: '2m 0s' },
      { label: 'Requests', value: 'cpu 2 · mem 4Gi' },
      { label: 'Limits', value: 'not set', unset: true },
      { label: 'Image', value: 'ghcr.io/acme/train:1' },
      { label: 'Secrets', value: 'db/password' }
    ]);
    expect(taskSettingRows({ settings: {} }).map(r => `${r.label}: ${r.value}`)).toEqual([
      'Retries: none', 'Cache: off', 'Timeout: none', 'Requests: not set', 'Limits: not set'
    ]);
  });

  it('keeps the docstring as written', () => {
    expect(docstring(SQUARE)).toBe('Square x, scaled.\n\nArgs:\n    x: the number');
    expect(docstring({ docs: {} })).toBe('');
  });
});

describe('an entity page', () => {
  afterEach(cleanup);

  const entity = (spec: Record<string, unknown>, kind: string) => ({
    kind,
    project: 'default',
    domain: 'development',
    name: spec.name,
    version: 'v1',
    description: 'Square x, scaled.',
    archived: false,
    created_at: '2030-01-01T12:00:00Z',
    digest: 'd',
    bundle_digest: null,
    spec
  });
  const dag = { nodes: [], edges: [], inputs: [], outputs: [] };

  it("shows a task's docstring, interface and run settings", async () => {
    const client = backend({
      'tasks/pipelines.square': entity(SQUARE, 'task'),
      'tasks/pipelines.square/dag': dag
    });
    render(<EntityView client={client} kind="task" name="pipelines.square" onLaunch={noop} onOpenExecution={noop} onOpenEntity={noop} />);
    const settings = await screen.findByRole('region', { name: 'Run settings' });
    expect(within(settings).getByText('Retries').nextElementSibling?.textContent).toBe('3 (4 attempts in all)');
    expect(within(settings).getByText('Timeout').nextElementSibling?.textContent).toBe('2m 0s');
    const inputs = within(screen.getByRole('region', { name: 'Interface' })).getByRole('table', { name: 'Inputs' });
    expect(within(inputs).getAllByRole('row').map(r => r.textContent)).toEqual([
      'InputTypeDefault', 'xintrequired', 'scalefloat1.5'
    ]);
    expect(screen.getByRole('region', { name: 'Docstring' }).textContent).toContain('x: the number');
    expect(screen.queryByRole('region', { name: 'Launch plans' })).toBeNull();
  });

  it('lists the workflow executions that ran a task as a node, each opening its execution', async () => {
    const node = { id: 'run-7', phase: 'FAILED', created_at: '2030-01-01T12:01:00Z', duration_s: 4, node_path: 'n2', workflow: 'pipelines.train' };
    const alone = { id: 'run-3', phase: 'SUCCEEDED', created_at: '2030-01-01T12:00:00Z', duration_s: 1, node_path: null, workflow: null };
    const client = backend({
      'tasks/pipelines.square': entity(SQUARE, 'task'),
      'tasks/pipelines.square/dag': dag,
      tasks: page([item('pipelines.square_root'), item('pipelines.square', [node, alone])])
    });
    const opened: string[] = [];
    render(
      <EntityView client={client} kind="task" name="pipelines.square" onLaunch={noop} onOpenExecution={id => opened.push(id)} onOpenEntity={noop} />
    );
    const section = await screen.findByRole('region', { name: 'Runs inside workflows' });
    expect(within(section).getAllByRole('row').map(r => r.textContent?.slice(0, 18))).toEqual([
      'ExecutionWorkflowN', 'run-7trainn2FAILED'
    ]);
    fireEvent.click(within(section).getByRole('button', { name: 'run-7' }));
    expect(opened).toEqual(['run-7']);
    expect(screen.getByText('Not launched by itself yet.')).toBeTruthy();
  });

  it('lists the launch plans of a workflow, its default first, each opening its page', async () => {
    const workflow = { ...SQUARE, kind: 'workflow', name: 'pipelines.train', settings: undefined };
    const plans = [item('pipelines.train_nightly'), item('pipelines.train')].map(p => ({ ...p, kind: 'launch_plan' }));
    const client = backend({
      'workflows/pipelines.train': entity(workflow, 'workflow'),
      'workflows/pipelines.train/dag': dag,
      launch_plans: page(plans)
    });
    const opened: string[] = [];
    render(
      <EntityView
        client={client}
        kind="workflow"
        name="pipelines.train"
        onLaunch={noop}
        onOpenExecution={noop}
        onOpenEntity={(kind, name) => opened.push(`${kind} ${name}`)}
      />
    );
    const section = await screen.findByRole('region', { name: 'Launch plans' });
    await waitFor(() => expect(within(section).getAllByRole('listitem')).toHaveLength(2));
    const [first, second] = within(section).getAllByRole('listitem');
    expect(first.textContent).toContain('traindefault');
    expect(second.textContent).toContain('train_nightly');
    fireEvent.click(within(second).getByRole('button', { name: 'train_nightly' }));
    expect(opened).toEqual(['launch_plan pipelines.train_nightly']);
    expect(screen.queryByRole('region', { name: 'Run settings' })).toBeNull();
  });
});
