/**
 * "Run from here" in the lab: choosing nodes in the node table and the graph, the
 * button's state, the launch form's re-run mode and its request, and REUSED nodes.
 */
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { Entity, Execution, PlaitClient, Transport } from '../src/api/client';
import { DagView } from '../src/dag/DagView';
import type { Dag } from '../src/dag/types';
import { ExecutionView } from '../src/execution/ExecutionView';
import { NodeRun, pollTiming } from '../src/execution/model';
import { LaunchForm } from '../src/launch/LaunchForm';
import { inputFields } from '../src/launch/model';
import { buildRerun, rerunProblems } from '../src/launch/rerun';
import predict from './fixtures/dag-predict.json';

const INPUTS = {
  values: { type: { kind: 'list', of: { kind: 'integer' } }, required: true },
  label: { type: { kind: 'string' }, required: false, default: 'sum' },
  floor: { type: { kind: 'integer' }, required: false, default: 0 }
};

const WORKFLOW: Entity = {
  archived: false,
  bundle_digest: null,
  created_at: '2024-05-01T12:00:00Z',
  description: '',
  digest: 'd'.repeat(64),
  domain: 'development',
  kind: 'workflow',
  name: 'lab.chain',
  project: 'default',
  spec: { kind: 'workflow', name: 'lab.chain', version: 'v1', interface: { inputs: INPUTS, outputs: {} }, nodes: [] },
  version: 'v1'
};

function execution(extra: Partial<Execution> = {}): Execution {
  return {
    id: 'ex-old',
    project: 'default',
    domain: 'development',
    entity: { kind: 'workflow', name: 'lab.chain', version: 'v1' },
    launch_plan: { kind: 'launch_plan', name: 'lab.chain', version: 'v1' },
    phase: 'SUCCEEDED',
    inputs: { values: { literal: [4, 5] }, label: { literal: 'total' }, floor: { literal: 1 } },
    outputs: null,
    error: null,
    settings: { labels: { team: 'ml' } },
    rerun_of: null,
    parent_execution_id: null,
    parent_node_path: null,
    abort_requested: false,
    created_at: '2024-05-01T12:00:00Z',
    started_at: '2024-05-01T12:00:00Z',
    ended_at: '2024-05-01T12:00:05Z',
    duration_s: 5,
    ...extra
  };
}

function node(path: string, extra: Partial<NodeRun> = {}): NodeRun {
  return {
    path,
    parent_path: null,
    entity_name: `lab.step_${path}`,
    entity_version: 'v1',
    kind: 'task',
    phase: 'SUCCEEDED',
    inputs: {},
    outputs: { o0: { literal: `out of ${path}` } },
    error: null,
    reused_from: null,
    created_at: '2024-05-01T12:00:00Z',
    started_at: '2024-05-01T12:00:00Z',
    ended_at: '2024-05-01T12:00:01Z',
    attempts: [],
    ...extra
  };
}

interface Call {
  method: string;
  path: string;
  body?: any;
}

/** A backend in memory: the execution, its nodes, the workflow; a re-run answers `rerunAnswer`. */
function fakeBackend(state: { execution: Execution; nodes: NodeRun[]; rerunAnswer?: [number, unknown] }) {
  const calls: Call[] = [];
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const transport: Transport = async (url, init) => {
    const path = decodeURIComponent(url.split('?')[0]);
    const method = init.method ?? 'GET';
    calls.push({ method, path, body: init.body ? JSON.parse(String(init.body)) : undefined });
    const id = state.execution.id;
    if (method === 'POST' && path === `executions/${id}/rerun`) {
      const [status, body] = state.rerunAnswer ?? [201, execution({ id: 'ex-new', phase: 'QUEUED' })];
      return json(body, status);
    }
    if (path === `executions/${id}`) {
      return json(state.execution);
    }
    if (path === `executions/${id}/nodes`) {
      return json({ execution_id: id, nodes: state.nodes });
    }
    if (path === 'workflows/lab.chain') {
      return json(WORKFLOW);
    }
    if (path === 'launch_plans') {
      return json({ items: [], limit: 500, offset: 0, next_offset: null });
    }
    return json({ error: 'not_found', message: `no route ${method} ${path}` }, 404);
  };
  return { client: new PlaitClient(transport), calls, posts: () => calls.filter(c => c.method === 'POST') };
}

const saved = { ...pollTiming };
beforeEach(() => Object.assign(pollTiming, { interval: 20, max: 40 }));
afterEach(() => {
  cleanup();
  Object.assign(pollTiming, saved);
});

const CHAIN = [node('n0'), node('n1'), node('n2')];

async function renderView(extra: Partial<Execution> = {}, nodes: NodeRun[] = CHAIN) {
  const fake = fakeBackend({ execution: execution(extra), nodes });
  const onRunFrom = vi.fn();
  const onOpenExecution = vi.fn();
  render(
    <ExecutionView client={fake.client} executionId="ex-old" onRunFrom={onRunFrom} onOpenExecution={onOpenExecution} />
  );
  const table = await screen.findByRole('table', { name: 'Nodes' });
  const row = (path: string) => table.querySelector<HTMLTableRowElement>(`tr[data-path="${path}"]`)!;
  const box = (path: string) => within(row(path)).getByRole('checkbox', { name: `Run ${path} again` }) as HTMLInputElement;
  const bar = screen.getByRole('group', { name: 'Run again' });
  const button = within(bar).getByRole('button', { name: 'Run from here' }) as HTMLButtonElement;
  return { ...fake, onRunFrom, onOpenExecution, table, row, box, bar, button };
}

describe('choosing nodes in the node table', () => {
  it('chooses by checkbox, Ctrl/Cmd+click and Space; a plain click opens the panel', async () => {
    const { row, box, bar, button, onRunFrom } = await renderView();
    expect(button.disabled).toBe(true);

    fireEvent.click(box('n1'));
    expect(box('n1').checked).toBe(true);
    expect(screen.queryByRole('complementary')).toBeNull(); // the checkbox does not open the panel
    expect(button.disabled).toBe(false);

    fireEvent.click(row('n2'), { ctrlKey: true });
    expect(box('n2').checked).toBe(true);
    fireEvent.click(row('n2'), { metaKey: true });
    expect(box('n2').checked).toBe(false);
    fireEvent.click(row('n2'), { metaKey: true });
    expect(screen.queryByRole('complementary')).toBeNull();

    fireEvent.keyDown(row('n0'), { key: ' ' });
    expect(box('n0').checked).toBe(true);
    fireEvent.keyDown(row('n0'), { key: ' ' });
    expect(box('n0').checked).toBe(false);
    expect(row('n1').classList.contains('plait-mod-picked')).toBe(true);
    expect(bar.textContent).toContain('Chosen: n1, n2');

    fireEvent.click(row('n0'));
    expect(screen.getByRole('complementary', { name: 'Node n0' })).toBeTruthy();
    expect(box('n0').checked).toBe(false);

    fireEvent.click(button);
    expect(onRunFrom).toHaveBeenCalledWith(expect.objectContaining({ id: 'ex-old' }), ['n1', 'n2']);

    fireEvent.click(within(bar).getByRole('button', { name: 'Clear' }));
    expect(box('n1').checked).toBe(false);
    expect(button.disabled).toBe(true);
  });

  it('offers "Run from here" only once the execution has ended', async () => {
    const { box, button } = await renderView({ phase: 'RUNNING', ended_at: null });
    fireEvent.click(box('n1'));
    expect(box('n1').checked).toBe(true);
    expect(button.disabled).toBe(true);
    expect(button.title).toMatch(/has not ended/);
  });

  it("offers it for the node in the panel", async () => {
    const { row, onRunFrom } = await renderView();
    fireEvent.click(row('n1'));
    const panel = screen.getByRole('complementary', { name: 'Node n1' });
    fireEvent.click(within(panel).getByRole('button', { name: 'Run from here' }));
    expect(onRunFrom).toHaveBeenCalledWith(expect.objectContaining({ id: 'ex-old' }), ['n1']);
  });

  it('has no checkboxes and no button without a handler; Space opens the panel', async () => {
    const { client } = fakeBackend({ execution: execution(), nodes: CHAIN });
    render(<ExecutionView client={client} executionId="ex-old" />);
    const table = await screen.findByRole('table', { name: 'Nodes' });
    expect(within(table).queryAllByRole('checkbox')).toHaveLength(0);
    expect(screen.queryByRole('button', { name: 'Run from here' })).toBeNull();
    fireEvent.keyDown(table.querySelector('tr[data-path="n1"]')!, { key: ' ' });
    expect(screen.getByRole('complementary', { name: 'Node n1' })).toBeTruthy();
  });
});

describe('a re-run', () => {
  const reused = [
    node('n0', { phase: 'REUSED', reused_from: { execution_id: 'ex-first', path: 'n0' }, outputs: { o0: { literal: 'kept value' } } }),
    node('n1'),
    node('n2')
  ];

  it('shows REUSED nodes, where they came from, and their outputs', async () => {
    const { row, onOpenExecution } = await renderView(
      { rerun_of: { execution_id: 'ex-first', from_nodes: ['n1'] } },
      reused
    );
    expect(within(row('n0')).getByText('REUSED').className).toContain('plait-phase-reused');
    fireEvent.click(row('n0'));
    const panel = screen.getByRole('complementary', { name: 'Node n0' });
    expect(within(panel).getByRole('note').textContent).toBe('Reused from execution ex-first, node n0');
    expect(within(panel).getByRole('table', { name: 'Outputs of n0' }).textContent).toContain('kept value');
    expect(panel.textContent).toContain('none (outputs reused, not computed again)');
    fireEvent.click(within(panel).getByRole('button', { name: 'ex-first' }));
    expect(onOpenExecution).toHaveBeenCalledWith('ex-first');

    // The header says what it re-runs.
    const header = screen.getByRole('region', { name: 'Execution ex-old' });
    expect(header.textContent).toContain('Re-run ofex-first from n1');
    onOpenExecution.mockClear();
    fireEvent.click(within(header).getByTitle('Open execution ex-first'));
    expect(onOpenExecution).toHaveBeenCalledWith('ex-first');
  });
});

// The first ELK layout in a process compiles a lot of code: take that time here.
beforeAll(async () => {
  const { layoutDag } = await import('../src/dag/layout');
  await layoutDag(predict as unknown as Dag);
}, 20_000);

describe('choosing nodes in the graph', { timeout: 20_000 }, () => {
  it('adds a node with Ctrl/Cmd+click and marks it; a plain click selects', async () => {
    const onSelectNode = vi.fn();
    const onPickNode = vi.fn();
    const { rerender } = render(
      <DagView dag={predict as unknown as Dag} onSelectNode={onSelectNode} onPickNode={onPickNode} picked={new Set()} />
    );
    const task = await screen.findByRole('button', { name: 'node point_on_line (task)' }, { timeout: 5000 });
    fireEvent.click(task, { ctrlKey: true });
    fireEvent.click(task, { metaKey: true });
    fireEvent.click(task);
    expect(onPickNode.mock.calls).toEqual([['n1'], ['n1']]);
    expect(onSelectNode.mock.calls).toEqual([['n1']]);

    rerender(
      <DagView dag={predict as unknown as Dag} onSelectNode={onSelectNode} onPickNode={onPickNode} picked={new Set(['n1'])} />
    );
    const picked = screen.getByRole('button', { name: 'node point_on_line (task), chosen to run again' });
    expect(picked.closest('.plait-DagNode')!.classList.contains('plait-mod-picked')).toBe(true);
  });
});

describe('the launch form in re-run mode', () => {
  function renderForm(rerunAnswer?: [number, unknown]) {
    const fake = fakeBackend({ execution: execution(), nodes: CHAIN, rerunAnswer });
    const onLaunched = vi.fn();
    render(
      <LaunchForm
        client={fake.client}
        target={{ kind: 'workflow', name: 'lab.chain', version: 'v1' }}
        rerun={{ execution: 'ex-old', fromNodes: ['n1', 'n2'] }}
        onLaunched={onLaunched}
      />
    );
    return { ...fake, onLaunched };
  }
  const text = (name: string) => screen.getByRole('textbox', { name }) as HTMLInputElement;
  const launch = () => fireEvent.click(screen.getByRole('button', { name: 'Launch' }));

  it('is titled by the nodes, prefilled, without settings but the name, and sends only what changed', async () => {
    const { posts, onLaunched } = renderForm();
    expect(await screen.findByRole('form', { name: 'Run from n1, n2 of ex-old' })).toBeTruthy();
    expect(text('values').value).toBe('[4,5]');
    expect(text('label').value).toBe('total');
    expect(text('floor').value).toBe('1');
    expect(screen.queryByRole('combobox', { name: 'Launch plan' })).toBeNull();
    expect(screen.queryByRole('checkbox', { name: 'Overwrite cached outputs' })).toBeNull();
    expect(screen.queryByRole('textbox', { name: 'Label 1 key' })).toBeNull();
    expect(text('Execution name').value).toBe('');

    launch();
    await waitFor(() => expect(onLaunched).toHaveBeenCalledWith(expect.objectContaining({ id: 'ex-new' })));
    expect(posts()).toEqual([{ method: 'POST', path: 'executions/ex-old/rerun', body: { from_nodes: ['n1', 'n2'] } }]);
  });

  it('sends a changed input, even when it is changed to the default', async () => {
    const { posts, onLaunched } = renderForm();
    await screen.findByRole('form', { name: 'Run from n1, n2 of ex-old' });
    fireEvent.change(text('label'), { target: { value: 'mean' } });
    fireEvent.change(text('floor'), { target: { value: '0' } }); // the default, but the original had 1
    fireEvent.change(text('Execution name'), { target: { value: 'again-1' } });
    launch();
    await waitFor(() => expect(onLaunched).toHaveBeenCalled());
    expect(posts().map(p => p.body)).toEqual([
      { from_nodes: ['n1', 'n2'], inputs: { label: 'mean', floor: 0 }, name: 'again-1' }
    ]);
  });

  it('shows a wrong value by its field before sending', async () => {
    const { posts } = renderForm();
    await screen.findByRole('form', { name: 'Run from n1, n2 of ex-old' });
    fireEvent.change(text('floor'), { target: { value: 'ten' } });
    launch();
    expect(await screen.findByText('floor expects int: "ten" is not an integer')).toBeTruthy();
    expect(posts()).toEqual([]);
  });

  it("shows the route's 422 by the input it names", async () => {
    renderForm([422, { error: 'invalid', message: 'input `floor` of `lab.chain` expects int: too low', field: 'inputs.floor' }]);
    await screen.findByRole('form', { name: 'Run from n1, n2 of ex-old' });
    fireEvent.change(text('floor'), { target: { value: '-5' } });
    launch();
    expect(await screen.findByText('input `floor` of `lab.chain` expects int: too low')).toBeTruthy();
    await waitFor(() => expect(text('floor').getAttribute('aria-invalid')).toBe('true'));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it("shows the route's 422 about a node, and a 409, at the top", async () => {
    const message = 'execution `ex-old` has no node `n2`; its nodes: n0, n1';
    renderForm([422, { error: 'invalid', message, field: 'from_nodes' }]);
    await screen.findByRole('form', { name: 'Run from n1, n2 of ex-old' });
    launch();
    expect((await screen.findByRole('alert')).textContent).toBe(message);
    cleanup();

    renderForm([409, { error: 'conflict', message: 'execution `ex-old` is RUNNING; re-run it once it has ended' }]);
    await screen.findByRole('form', { name: 'Run from n1, n2 of ex-old' });
    launch();
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Could not run again: execution `ex-old` is RUNNING; re-run it once it has ended'
    );
  });
});

describe('the re-run request model', () => {
  const fields = inputFields(INPUTS);
  const source = { execution: 'ex-old', fromNodes: ['n3'] };
  const original = { values: '[4,5]', label: 'total', floor: '1' };

  it('leaves out the inputs still as the original had them', () => {
    expect(buildRerun(source, fields, original, { ...original }, '')).toEqual({ body: { from_nodes: ['n3'] }, errors: {} });
  });

  it('sends the default for an emptied input that has one', () => {
    const { body } = buildRerun(source, fields, original, { ...original, label: '' }, '');
    expect(body).toEqual({ from_nodes: ['n3'], inputs: { label: 'sum' } });
  });

  it('sends what was typed where the original value could not be shown', () => {
    // `values` was kept in the object store: the field started empty.
    const { body, errors } = buildRerun(source, fields, { label: 'total', floor: '1' }, { label: 'total', floor: '1' }, '');
    expect(errors).toEqual({});
    expect(body).toEqual({ from_nodes: ['n3'] });
    expect(buildRerun(source, fields, { label: 'total' }, { values: '[1]', label: 'total' }, '').body).toEqual({
      from_nodes: ['n3'],
      inputs: { values: [1] }
    });
  });

  it('refuses a bad name', () => {
    const { body, errors } = buildRerun(source, fields, original, original, 'Bad Name');
    expect(body).toBeNull();
    expect(Object.keys(errors)).toEqual(['settings.name']);
  });

  it("places the server's problems", () => {
    expect(rerunProblems({ 'inputs.floor': 'a', from_nodes: 'b', name: 'c', 'node_inputs.n3.x': 'd' }, fields)).toEqual({
      byField: { floor: 'a', 'settings.name': 'c' },
      other: ['b', 'd']
    });
  });
});
