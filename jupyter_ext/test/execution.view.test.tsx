import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { PlaitClient, Transport } from '../src/api/client';
import type { Execution, LogChunk } from '../src/api/client';
import { ExecutionView } from '../src/execution/ExecutionView';
import { NodeRun, pollTiming } from '../src/execution/model';

const T0 = Date.now() - 60_000;
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function makeExecution(extra: Partial<Execution> = {}): Execution {
  return {
    id: 'ex-1',
    project: 'default',
    domain: 'development',
    entity: { kind: 'workflow', name: 'flows.train', version: 'v7' },
    launch_plan: { kind: 'launch_plan', name: 'flows.train', version: 'v7' },
    phase: 'RUNNING',
    inputs: { epochs: { literal: 3, hash: 'h1' }, data: { uri: 'executions/ex-0/n0/1/outputs/o0.pkl', format: 'pickle', hash: 'h2', preview: 'DataFrame(3 rows)' } },
    outputs: null,
    error: null,
    settings: {},
    parent_execution_id: null,
    parent_node_path: null,
    abort_requested: false,
    created_at: at(0),
    started_at: at(0),
    ended_at: null,
    duration_s: 60,
    ...extra
  };
}

function makeNodes(): NodeRun[] {
  return [
    {
      path: 'n0',
      parent_path: null,
      entity_name: 'flows.load',
      entity_version: 'v7',
      kind: 'task',
      phase: 'SUCCEEDED',
      inputs: { n: { literal: 3 } },
      outputs: { o0: { literal: [1, 2, 3] } },
      error: null,
      created_at: at(0),
      started_at: at(0),
      ended_at: at(2),
      attempts: [
        {
          number: 1, phase: 'SUCCEEDED', error_kind: null, error: null, worker: 'tcp://w1', outputs: null,
          cpu_avg: 0.5, cpu_peak: 1, mem_avg: 100 * 2 ** 20, mem_peak: 150 * 2 ** 20, started_at: at(0), ended_at: at(2)
        }
      ]
    },
    {
      path: 'n1',
      parent_path: null,
      entity_name: 'flows.fit',
      entity_version: 'v7',
      kind: 'task',
      phase: 'RUNNING',
      inputs: { xs: { literal: [1, 2, 3] } },
      outputs: null,
      error: null,
      created_at: at(2),
      started_at: at(2),
      ended_at: null,
      attempts: [
        {
          number: 1, phase: 'FAILED', error_kind: 'SYSTEM', error: { message: 'worker lost' }, worker: 'tcp://w1',
          pool: 'gpu-spot', outputs: null, cpu_avg: null, cpu_peak: null, mem_avg: null, mem_peak: null, started_at: at(2), ended_at: at(3)
        },
        {
          number: 2, phase: 'RUNNING', error_kind: null, error: null, worker: 'tcp://w2', pool: 'gpu', outputs: null,
          cpu_avg: null, cpu_peak: null, mem_avg: null, mem_peak: null, started_at: at(3), ended_at: null
        }
      ]
    }
  ];
}

const TASK = {
  kind: 'task', name: 'flows.fit', version: 'v7', project: 'default', domain: 'development', archived: false,
  bundle_digest: null, created_at: at(0), description: '', digest: 'd',
  spec: {
    task_type: 'python-task',
    interface: { inputs: { xs: { type: { kind: 'list', of: { kind: 'integer' } }, required: true } }, outputs: { o0: { kind: 'float' } } },
    settings: { retries: 1, timeout: null, cache: null, requests: { cpu: '2', mem: '1Gi' }, container_image: 'python:3.11-slim' }
  }
};

interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body?: unknown;
}

/** A backend in memory: routes by method and path, records every call. */
function fakeBackend(state: {
  execution: Execution;
  nodes: NodeRun[];
  logs?: Record<string, LogChunk[]>;
  dashboard?: boolean;
}) {
  const calls: Call[] = [];
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const transport: Transport = async (url, init) => {
    const parsed = new URL(url, 'http://plait/');
    const path = decodeURIComponent(parsed.pathname.slice(1));
    const method = init.method ?? 'GET';
    calls.push({ method, path, query: parsed.searchParams, body: init.body ? JSON.parse(String(init.body)) : undefined });
    const id = state.execution.id;
    if (method === 'GET' && path === `executions/${id}`) {
      return json(state.execution);
    }
    if (method === 'GET' && path === `executions/${id}/nodes`) {
      return json({ execution_id: id, nodes: state.nodes });
    }
    const logs = path.match(/^executions\/[^/]+\/nodes\/([^/]+)\/logs$/);
    if (method === 'GET' && logs) {
      const offset = Number(parsed.searchParams.get('offset') ?? 0);
      const chunks = state.logs?.[`${logs[1]}:${parsed.searchParams.get('attempt')}`] ?? [];
      const chunk = chunks.find(c => c.offset === offset);
      return json(
        chunk ?? { execution_id: id, path: logs[1], attempt: 1, offset, next_offset: offset, text: '', complete: false }
      );
    }
    if (method === 'GET' && path === 'health') {
      return json({ status: 'ok', dask_dashboard: state.dashboard === false ? null : 'http://127.0.0.1:8787/status' });
    }
    if (method === 'GET' && path.startsWith('tasks/')) {
      return json(TASK);
    }
    if (method === 'GET' && path === 'workflows/flows.train/dag') {
      return json({ version: 1, name: 'flows.train', label: 'train', kind: 'workflow', inputs: [], outputs: [], nodes: [], edges: [] });
    }
    if (method === 'GET' && path === 'data') {
      return new Response(new Uint8Array([0x80, 0x04, 0x95, 0, 1, 2]), { status: 200 });
    }
    if (method === 'POST' && path === `executions/${id}/relaunch`) {
      return json({ ...state.execution, id: 'ex-2', phase: 'QUEUED' }, 201);
    }
    if (method === 'POST' && path === `executions/${id}/abort`) {
      state.execution = { ...state.execution, abort_requested: true };
      return json(state.execution, 202);
    }
    return json({ error: 'not_found', message: `no route ${method} ${path}` }, 404);
  };
  return { client: new PlaitClient(transport), calls };
}

const chunk = (offset: number, text: string, complete: boolean): LogChunk => ({
  execution_id: 'ex-1', path: 'n1', attempt: 2, offset, next_offset: offset + text.length, text, complete
});

const saved = { ...pollTiming };
beforeEach(() => Object.assign(pollTiming, { interval: 20, max: 40 }));
afterEach(() => {
  cleanup();
  Object.assign(pollTiming, saved);
});

describe('ExecutionView', () => {
  it('renders the header and the node table', async () => {
    const { client } = fakeBackend({ execution: makeExecution(), nodes: makeNodes() });
    render(<ExecutionView client={client} executionId="ex-1" />);

    const header = await screen.findByRole('region', { name: 'Execution ex-1' });
    expect(within(header).getByRole('heading', { name: 'ex-1' })).toBeTruthy();
    expect(within(header).getByRole('status', { name: 'Execution phase' }).textContent).toBe('RUNNING');
    expect(header.textContent).toContain('flows.train @ v7');
    expect(within(header).getByRole('table', { name: 'Inputs' }).textContent).toContain('3');
    expect(within(header).getByRole('button', { name: 'Load data' })).toBeTruthy();
    expect((within(header).getByRole('button', { name: 'Abort' }) as HTMLButtonElement).disabled).toBe(false);

    const tabs = screen.getByRole('tablist');
    expect(within(tabs).getAllByRole('tab').map(t => t.textContent)).toEqual(['Nodes', 'Graph', 'Timeline']);
    expect(screen.getByRole('tab', { name: 'Nodes' }).getAttribute('aria-selected')).toBe('true');

    const table = await screen.findByRole('table', { name: 'Nodes' });
    const headers = within(table).getAllByRole('columnheader').map(h => h.textContent);
    expect(headers).toEqual(['Node', 'Kind', 'Task', 'Phase', 'Attempts', 'Start', 'Duration']);
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map(r => within(r).getAllByRole('cell')[0].textContent)).toEqual(['n0', 'n1']);
    expect(within(rows[1]).getAllByRole('cell')[3].textContent).toBe('RUNNING');
    expect(within(rows[1]).getAllByRole('cell')[4].textContent).toBe('2');
  });

  it('opens a node panel and streams its logs', async () => {
    const { client, calls } = fakeBackend({
      execution: makeExecution(),
      nodes: makeNodes(),
      logs: { 'n1:2': [chunk(0, 'epoch 1\n', false), chunk(8, 'epoch 2\n', true)] }
    });
    render(<ExecutionView client={client} executionId="ex-1" />);
    const table = await screen.findByRole('table', { name: 'Nodes' });
    const row = within(table).getAllByRole('row')[2];
    fireEvent.keyDown(row, { key: 'Enter' });

    const panel = await screen.findByRole('complementary', { name: 'Node n1' });
    const logs = within(panel).getByLabelText('Logs of n1');
    await waitFor(() => expect(logs.textContent).toBe('epoch 1\nepoch 2\n'));
    const logCalls = calls.filter(c => c.path === 'executions/ex-1/nodes/n1/logs');
    expect(logCalls.map(c => [c.query.get('attempt'), c.query.get('offset')]).slice(0, 2)).toEqual([
      ['2', '0'],
      ['2', '8']
    ]);

    const attempts = within(panel).getByRole('table', { name: 'Attempts of n1' });
    expect(attempts.textContent).toContain('SYSTEM');
    expect(attempts.textContent).toContain('worker lost');
    expect(within(panel).getByRole('combobox', { name: 'Log attempt' })).toBeTruthy();
    expect(within(panel).getByRole('table', { name: 'Inputs of n1' }).textContent).toContain('[1,2,3]');
    const task = await within(panel).findByRole('table', { name: 'Task flows.fit' });
    expect(task.textContent).toContain('xs: list[int]');
    expect(task.textContent).toContain('cpu 2, mem 1Gi');
    const taskCall = calls.find(c => c.path === 'tasks/flows.fit');
    expect(taskCall?.query.get('version')).toBe('v7');

    // The log stream is complete: no more requests.
    const count = calls.filter(c => c.path.endsWith('/logs')).length;
    await act(() => new Promise(resolve => setTimeout(resolve, 120)));
    expect(calls.filter(c => c.path.endsWith('/logs')).length).toBe(count);

    fireEvent.click(within(panel).getByRole('button', { name: 'Close node panel' }));
    expect(screen.queryByRole('complementary', { name: 'Node n1' })).toBeNull();
  });

  it('links the Dask dashboard from the header and each worker to its page', async () => {
    const { client } = fakeBackend({ execution: makeExecution(), nodes: makeNodes() });
    render(<ExecutionView client={client} executionId="ex-1" dashboardUrl="/lab/plait/api/dask/status" />);
    const link = await screen.findByRole('link', { name: 'Dask dashboard' });
    expect(link.getAttribute('href')).toBe('/lab/plait/api/dask/status');
    fireEvent.click(await screen.findByText('n1'));
    const attempts = await screen.findByRole('table', { name: 'Attempts of n1' });
    const worker = within(attempts).getByRole('link', { name: 'tcp://w2' });
    expect(worker.getAttribute('href')).toBe('/lab/plait/api/dask/info/worker/tcp%3A%2F%2Fw2.html');
    expect(worker.getAttribute('target')).toBe('_blank');
  });

  it('shows no dashboard links when the backend has no dashboard', async () => {
    const { client, calls } = fakeBackend({ execution: makeExecution(), nodes: makeNodes(), dashboard: false });
    render(<ExecutionView client={client} executionId="ex-1" dashboardUrl="/lab/plait/api/dask/status" />);
    fireEvent.click(await screen.findByText('n1'));
    const attempts = await screen.findByRole('table', { name: 'Attempts of n1' });
    await waitFor(() => expect(calls.some(c => c.path === 'health')).toBe(true));
    expect(screen.queryByRole('link', { name: 'Dask dashboard' })).toBeNull();
    expect(within(attempts).queryByRole('link')).toBeNull();
  });

  it('shows the pool and worker of each attempt', async () => {
    const { client } = fakeBackend({ execution: makeExecution(), nodes: makeNodes() });
    render(<ExecutionView client={client} executionId="ex-1" />);
    fireEvent.click(await screen.findByText('n1'));
    const attempts = await screen.findByRole('table', { name: 'Attempts of n1' });
    const header = within(attempts).getAllByRole('columnheader').map(h => h.textContent);
    expect(header).toEqual(['#', 'Phase', 'Error', 'Pool', 'Worker', 'Start', 'End']);
    const rows = within(attempts).getAllByRole('row').slice(1);
    expect(rows.map(r => [within(r).getAllByRole('cell')[3].textContent, within(r).getAllByRole('cell')[4].textContent]))
      .toEqual([['gpu-spot', 'tcp://w1'], ['gpu', 'tcp://w2']]);
    fireEvent.click(screen.getByText('n0'));
    const first = await screen.findByRole('table', { name: 'Attempts of n0' });
    expect(within(within(first).getAllByRole('row')[1]).getAllByRole('cell')[3].textContent).toBe('—');
  });

  it('loads an offloaded value on request', async () => {
    const { client, calls } = fakeBackend({ execution: makeExecution(), nodes: makeNodes() });
    render(<ExecutionView client={client} executionId="ex-1" />);
    const inputs = await screen.findByRole('table', { name: 'Inputs' });
    expect(inputs.textContent).toContain('DataFrame(3 rows)');
    expect(calls.some(c => c.path === 'data')).toBe(false);
    fireEvent.click(within(inputs).getByRole('button', { name: 'Load data' }));
    await waitFor(() => expect(inputs.textContent).toContain('6 B'));
    expect(calls.find(c => c.path === 'data')?.query.get('uri')).toBe('executions/ex-0/n0/1/outputs/o0.pkl');
  });

  it('shows resource use per attempt', async () => {
    const { client } = fakeBackend({ execution: makeExecution(), nodes: makeNodes() });
    render(<ExecutionView client={client} executionId="ex-1" />);
    fireEvent.click(await screen.findByText('n0'));
    const usage = await screen.findByRole('table', { name: 'Resource use of n0' });
    expect(usage.textContent).toContain('0.5 cores');
    expect(usage.textContent).toContain('150 MiB');
  });

  it('shows GPU use beside CPU and memory when the worker measured GPUs', async () => {
    const nodes = makeNodes();
    Object.assign(nodes[0].attempts[0], {
      gpu_util_avg: 41.6, gpu_util_peak: 97, gpu_mem_avg: 4096 * 2 ** 20, gpu_mem_peak: 6144 * 2 ** 20
    });
    const { client } = fakeBackend({ execution: makeExecution(), nodes });
    render(<ExecutionView client={client} executionId="ex-1" />);
    fireEvent.click(await screen.findByText('n0'));
    const usage = await screen.findByRole('table', { name: 'Resource use of n0' });
    const header = within(usage).getAllByRole('columnheader').map(h => h.textContent);
    expect(header).toEqual(['Attempt', 'CPU avg', 'CPU peak', 'Memory avg', 'Memory peak', 'GPU avg', 'GPU peak',
      'GPU memory peak']);
    const cells = within(within(usage).getAllByRole('row')[1]).getAllByRole('cell').map(c => c.textContent);
    expect(cells.slice(5)).toEqual(['42%', '97%', '6,144 MiB']);
  });

  it('shows no GPU columns for attempts without GPUs', async () => {
    const { client } = fakeBackend({ execution: makeExecution(), nodes: makeNodes() });
    render(<ExecutionView client={client} executionId="ex-1" />);
    fireEvent.click(await screen.findByText('n0'));
    const usage = await screen.findByRole('table', { name: 'Resource use of n0' });
    expect(within(usage).queryByRole('columnheader', { name: 'GPU avg' })).toBeNull();
  });

  it('relaunches and opens the new execution', async () => {
    const { client, calls } = fakeBackend({ execution: makeExecution({ phase: 'FAILED', ended_at: at(5) }), nodes: makeNodes() });
    const onOpenExecution = vi.fn();
    render(<ExecutionView client={client} executionId="ex-1" onOpenExecution={onOpenExecution} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Relaunch' }));
    await waitFor(() => expect(onOpenExecution).toHaveBeenCalledWith('ex-2'));
    expect(calls.filter(c => c.method === 'POST').map(c => c.path)).toEqual(['executions/ex-1/relaunch']);
  });

  it('disables Abort once the execution ended', async () => {
    const { client } = fakeBackend({
      execution: makeExecution({ phase: 'SUCCEEDED', ended_at: at(5), outputs: { o0: { literal: 0.93 } } }),
      nodes: makeNodes()
    });
    render(<ExecutionView client={client} executionId="ex-1" />);
    const abortButton = (await screen.findByRole('button', { name: 'Abort' })) as HTMLButtonElement;
    expect(abortButton.disabled).toBe(true);
    expect(screen.getByRole('table', { name: 'Outputs' }).textContent).toContain('0.93');
  });

  it('aborts after confirmation', async () => {
    const { client, calls } = fakeBackend({ execution: makeExecution(), nodes: makeNodes() });
    render(<ExecutionView client={client} executionId="ex-1" />);
    fireEvent.click(await screen.findByRole('button', { name: 'Abort' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Abort ex-1?' });
    expect(calls.some(c => c.method === 'POST')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Confirm' }));
    await waitFor(() => expect(calls.filter(c => c.method === 'POST').map(c => c.path)).toEqual(['executions/ex-1/abort']));
    expect(calls.find(c => c.method === 'POST')?.body).toBeUndefined();
    await waitFor(() => expect((screen.getByRole('button', { name: 'Abort' }) as HTMLButtonElement).disabled).toBe(true));
  });

  it('sends the reason typed in the confirmation, on Enter', async () => {
    const { client, calls } = fakeBackend({ execution: makeExecution(), nodes: makeNodes() });
    render(<ExecutionView client={client} executionId="ex-1" />);
    fireEvent.click(await screen.findByRole('button', { name: 'Abort' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Abort ex-1?' });
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Confirm' }));
    const reason = within(dialog).getByRole('textbox', { name: 'Reason (optional)' });
    fireEvent.change(reason, { target: { value: '  wrong learning rate ' } });
    fireEvent.submit(reason);
    await waitFor(() => expect(calls.filter(c => c.method === 'POST').map(c => c.body)).toEqual([{ reason: 'wrong learning rate' }]));
  });

  it('shows an aborted execution as aborted, with its reason, not as an error', async () => {
    const { client } = fakeBackend({
      execution: makeExecution({
        phase: 'ABORTED',
        ended_at: at(5),
        error: { kind: 'ABORTED', message: 'aborted: wrong learning rate' }
      }),
      nodes: makeNodes()
    });
    render(<ExecutionView client={client} executionId="ex-1" />);
    const banner = await screen.findByRole('status', { name: 'Aborted' });
    expect(banner.textContent).toBe('Aborted: wrong learning rate');
    expect(screen.queryByText(/ABORTED error/)).toBeNull();
  });

  it('stops polling once the execution ended', async () => {
    const state = { execution: makeExecution(), nodes: makeNodes() };
    const { client, calls } = fakeBackend(state);
    render(<ExecutionView client={client} executionId="ex-1" />);
    await screen.findByRole('table', { name: 'Nodes' });
    state.execution = { ...state.execution, phase: 'SUCCEEDED', ended_at: at(9) };
    await waitFor(() => expect(screen.getByRole('status', { name: 'Execution phase' }).textContent).toBe('SUCCEEDED'));
    const count = calls.filter(c => c.path === 'executions/ex-1').length;
    await act(() => new Promise(resolve => setTimeout(resolve, 150)));
    expect(calls.filter(c => c.path === 'executions/ex-1').length).toBe(count);
  });

  it('shows the timeline and the graph', async () => {
    const { client, calls } = fakeBackend({ execution: makeExecution(), nodes: makeNodes() });
    render(<ExecutionView client={client} executionId="ex-1" />);
    await screen.findByRole('table', { name: 'Nodes' });

    fireEvent.click(screen.getByRole('tab', { name: 'Timeline' }));
    expect(screen.getByRole('button', { name: 'load (n0): SUCCEEDED, 2.0 s' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: /^fit \(n1\): RUNNING, / }));
    expect(await screen.findByRole('complementary', { name: 'Node n1' })).toBeTruthy();

    fireEvent.click(screen.getByRole('tab', { name: 'Graph' }));
    expect(await screen.findByLabelText(/^DAG of .*train$/)).toBeTruthy();
    expect(calls.find(c => c.path === 'workflows/flows.train/dag')?.query.get('version')).toBe('v7');
  });
});
