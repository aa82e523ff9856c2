import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { PlaitClient, Transport } from '../src/api/client';
import type { Execution } from '../src/api/client';
import { NodePanel } from '../src/execution/NodePanel';
import { NodeRun, pollTiming } from '../src/execution/model';
import { WorkspaceForm } from '../src/workspaces/WorkspaceForm';
import { WorkspaceList } from '../src/workspaces/WorkspaceList';
import { WorkspaceView } from '../src/workspaces/WorkspaceView';
import type { Workspace } from '../src/workspaces/types';

function workspace(name: string, extra: Partial<Workspace> = {}): Workspace {
  return {
    name, project: 'default', domain: 'development', description: '', spec: { name }, phase: 'STOPPED',
    desired: 'STOPPED', reason: null, archived: false, active: false, url: null, pool: null, origin: null,
    restart_needed: false, resources: { cpu: '2', mem: '4Gi', gpu: null }, accelerator: null, ttl_seconds: 1200,
    last_activity: null, started_at: null, stopped_at: null, saved_at: null,
    created_at: new Date(Date.now() - 3600_000).toISOString(), updated_at: new Date(Date.now() - 120_000).toISOString(),
    ...extra
  };
}

interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body?: any;
}

type Answer = { status?: number; body: unknown } | undefined;

/** The workspace routes in memory: `route` answers first; every call is recorded. */
function fakeBackend(route: (call: Call) => Answer) {
  const calls: Call[] = [];
  const transport: Transport = async (url, init) => {
    const parsed = new URL(url, 'http://plait/');
    const call: Call = {
      method: init.method ?? 'GET',
      path: decodeURIComponent(parsed.pathname.slice(1)),
      query: parsed.searchParams,
      body: init.body ? JSON.parse(String(init.body)) : undefined
    };
    calls.push(call);
    const answer = route(call) ?? { status: 404, body: { error: 'not_found', message: `no route ${call.method} ${call.path}` } };
    return new Response(JSON.stringify(answer.body), { status: answer.status ?? 200 });
  };
  return { client: new PlaitClient(transport), calls };
}

const saved = { ...pollTiming };
beforeEach(() => {
  pollTiming.interval = 20;
  pollTiming.max = 40;
});
afterEach(() => {
  Object.assign(pollTiming, saved);
  cleanup();
});

describe('WorkspaceList', () => {
  const ROWS = [
    workspace('train', { phase: 'ACTIVE', desired: 'ACTIVE', active: true, resources: { cpu: '4', mem: '8Gi', gpu: '1' }, accelerator: 'nvidia-l4' }),
    workspace('scratch', { ttl_seconds: 600 })
  ];

  it('shows each workspace with its phase, resources and TTL; VS Code opens for the active one', async () => {
    const { client, calls } = fakeBackend(c => (c.path === 'workspaces' ? { body: { workspaces: ROWS } } : undefined));
    const openWindow = vi.fn();
    render(
      <WorkspaceList client={client} generation={0} baseUrl="/user/ann/" onOpenWorkspace={vi.fn()} onNewWorkspace={vi.fn()}
        onEditWorkspace={vi.fn()} openWindow={openWindow} />
    );
    const list = screen.getByRole('list', { name: 'Workspaces' });
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(2));
    const [scratch, train] = within(list).getAllByRole('listitem');
    expect(within(train).getByRole('button', { name: 'Workspace train' }).textContent).toBe(
      'trainACTIVE4 CPU · 8Gi · 1 GPU (nvidia-l4) · TTL 20m 0s · updated 2m ago'
    );
    expect(within(scratch).getByRole('button', { name: 'Workspace scratch' }).textContent).toContain('STOPPED2 CPU · 4Gi · TTL 10m 0s');
    expect(within(scratch).queryByRole('button', { name: 'Open in VS Code' })).toBeNull();
    fireEvent.click(within(train).getByRole('button', { name: 'Open in VS Code' }));
    expect(openWindow).toHaveBeenCalledWith('/user/ann/plait/workspaces/default/development/train/');
    expect(within(train).getByRole('switch', { name: 'Run train' }).getAttribute('aria-checked')).toBe('true');
    expect(calls[0].query.toString()).toBe('archived=false&sort=name');
  });

  it('asks again with the toggles: active only, recently updated, archived too', async () => {
    const { client, calls } = fakeBackend(c => {
      if (c.path !== 'workspaces') {
        return undefined;
      }
      const active = c.query.get('active') === 'true';
      return { body: { workspaces: ROWS.filter(w => !active || w.phase === 'ACTIVE') } };
    });
    render(<WorkspaceList client={client} generation={0} baseUrl="/" onOpenWorkspace={vi.fn()} onNewWorkspace={vi.fn()} onEditWorkspace={vi.fn()} />);
    await screen.findByRole('button', { name: 'Workspace scratch' });
    const active = screen.getByRole('button', { name: 'Active' });
    fireEvent.click(active);
    expect(active.getAttribute('aria-pressed')).toBe('true');
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Workspace scratch' })).toBeNull());
    fireEvent.click(screen.getByRole('button', { name: 'Recently updated' }));
    fireEvent.click(screen.getByRole('button', { name: 'Show archived' }));
    await waitFor(() => expect(calls[calls.length - 1].query.toString()).toBe('active=true&archived=true&sort=updated'));
  });

  it('starts a stopped workspace from its switch, and polls while it is STARTING', async () => {
    let phase: Workspace['phase'] = 'STOPPED';
    let listed = 0;
    const { client, calls } = fakeBackend(c => {
      if (c.method === 'POST' && c.path === 'workspaces/scratch/start') {
        phase = 'STARTING';
        return { body: workspace('scratch', { phase, desired: 'ACTIVE' }) };
      }
      if (c.path === 'workspaces') {
        listed += 1;
        if (phase === 'STARTING' && listed > 3) {
          phase = 'ACTIVE';
        }
        return { body: { workspaces: [workspace('scratch', { phase, desired: phase === 'STOPPED' ? 'STOPPED' : 'ACTIVE' })] } };
      }
      return undefined;
    });
    render(<WorkspaceList client={client} generation={0} baseUrl="/" onOpenWorkspace={vi.fn()} onNewWorkspace={vi.fn()} onEditWorkspace={vi.fn()} />);
    const toggle = await screen.findByRole('switch', { name: 'Run scratch' });
    expect(toggle.getAttribute('aria-checked')).toBe('false');
    fireEvent.click(toggle);
    await screen.findByText('STARTING');
    expect(screen.getByRole('switch', { name: 'Run scratch' })).toHaveProperty('disabled', true);
    await screen.findByRole('button', { name: 'Open in VS Code' });
    const asked = calls.filter(c => c.path === 'workspaces').length;
    expect(asked).toBeGreaterThanOrEqual(4);
    // ACTIVE: nothing changes by itself any more, the list is not asked again
    await act(() => new Promise(r => setTimeout(r, 150)));
    expect(calls.filter(c => c.path === 'workspaces').length).toBe(asked);
    expect(calls.filter(c => c.method === 'POST').map(c => c.path)).toEqual(['workspaces/scratch/start']);
  });

  it('says how to make one when there is none', async () => {
    const onNew = vi.fn();
    const { client } = fakeBackend(() => ({ body: { workspaces: [] } }));
    render(<WorkspaceList client={client} generation={0} baseUrl="/" onOpenWorkspace={vi.fn()} onNewWorkspace={onNew} onEditWorkspace={vi.fn()} />);
    await screen.findByText('No workspaces yet.');
    fireEvent.click(screen.getByRole('button', { name: 'New workspace' }));
    expect(onNew).toHaveBeenCalled();
  });
});

describe('WorkspaceForm', () => {
  it('creates a workspace from its fields, and shows what the server refuses next to the field', async () => {
    let tries = 0;
    const { client, calls } = fakeBackend(c => {
      if (c.method === 'POST' && c.path === 'workspaces') {
        tries += 1;
        if (tries === 1) {
          return {
            status: 422,
            body: { error: 'invalid_field', field: 'resources.mem', message: "workspace.yaml: resources.mem: expected a memory amount, found 'lots'" }
          };
        }
        return { status: 201, body: workspace(c.body.spec.name, { phase: 'STARTING', desired: 'ACTIVE' }) };
      }
      return undefined;
    });
    const onSaved = vi.fn();
    render(<WorkspaceForm client={client} onSaved={onSaved} onCancel={vi.fn()} />);
    const form = screen.getByRole('form', { name: 'New workspace' });
    fireEvent.click(within(form).getByRole('button', { name: 'Create workspace' }));
    expect(await screen.findByText('Give the workspace a name: lower-case letters, digits, - and _.')).toBeTruthy();
    expect(calls).toHaveLength(0);

    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'train-ws' } });
    fireEvent.change(screen.getByLabelText('Memory'), { target: { value: 'lots' } });
    fireEvent.change(screen.getByLabelText('On startup'), { target: { value: 'pip install polars\necho ready' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add secret' }));
    fireEvent.change(screen.getByRole('textbox', { name: 'Secret 1 key' }), { target: { value: 'hf_token' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create workspace' }));
    const memory = screen.getByLabelText('Memory');
    await waitFor(() => expect(memory.getAttribute('aria-invalid')).toBe('true'));
    expect(memory.parentElement!.textContent).toContain("resources.mem: expected a memory amount, found 'lots'");
    expect(calls[0].body).toEqual({
      spec: {
        name: 'train-ws', description: '', project: 'default', domain: 'development', container_image: null,
        resources: { cpu: '2', mem: 'lots', gpu: null }, accelerator: null,
        on_startup: ['pip install polars', 'echo ready'], ttl_seconds: 1200, secrets: [{ key: 'hf_token' }], working_dir: 'workspace'
      },
      start: true
    });
    expect(onSaved).not.toHaveBeenCalled();

    fireEvent.change(memory, { target: { value: '8Gi' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create workspace' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(onSaved.mock.calls[0][0].name).toBe('train-ws');
  });

  it('edits everything but the name with a PUT', async () => {
    const stored = workspace('train-ws', {
      spec: { name: 'train-ws', project: 'default', domain: 'development', resources: { cpu: '2', mem: '4Gi', gpu: null }, ttl_seconds: 1200, on_startup: ['echo hi'], secrets: [] }
    });
    const { client, calls } = fakeBackend(c => {
      if (c.path === 'workspaces/train-ws' && c.method === 'GET') {
        return { body: stored };
      }
      if (c.path === 'workspaces/train-ws' && c.method === 'PUT') {
        return { body: { ...stored, restart_needed: true } };
      }
      return undefined;
    });
    const onSaved = vi.fn();
    render(<WorkspaceForm client={client} name="train-ws" onSaved={onSaved} onCancel={vi.fn()} />);
    const name = await screen.findByLabelText('Name');
    expect((name as HTMLInputElement).value).toBe('train-ws');
    expect(name).toHaveProperty('readOnly', true);
    expect((screen.getByLabelText('On startup') as HTMLTextAreaElement).value).toBe('echo hi');
    fireEvent.change(screen.getByLabelText('Idle TTL (seconds)'), { target: { value: '3600' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    const put = calls.find(c => c.method === 'PUT')!;
    expect(put.query.toString()).toBe('project=default&domain=development');
    expect(put.body.spec.ttl_seconds).toBe(3600);
    expect(put.body.spec.name).toBe('train-ws');
  });
});

describe('WorkspaceView', () => {
  it('shows the phase, resources, log and where a debug workspace came from; Stop stops it', async () => {
    let phase: Workspace['phase'] = 'ACTIVE';
    const ws = () =>
      workspace('debug-fit-1', {
        phase,
        desired: phase === 'ACTIVE' ? 'ACTIVE' : 'STOPPED',
        reason: phase === 'STOPPED' ? 'stopped by ann' : null,
        origin: { execution_id: 'ex-9', node_id: 'n1', task: 'flows.fit' },
        resources: { cpu: '1', mem: '2Gi', gpu: null },
        ttl_seconds: 1800,
        last_activity: '2026-12-06T10:00:00Z'
      });
    const { client, calls } = fakeBackend(c => {
      if (c.path === 'workspaces/debug-fit-1') {
        return { body: ws() };
      }
      if (c.path === 'workspaces/debug-fit-1/log') {
        return { body: { lines: ['[manager] starting code-server', 'HTTP server listening'] } };
      }
      if (c.path === 'workspaces/debug-fit-1/stop') {
        phase = 'STOPPED';
        return { body: ws() };
      }
      return undefined;
    });
    const onOpenExecution = vi.fn();
    const openWindow = vi.fn();
    render(
      <WorkspaceView client={client} name="debug-fit-1" baseUrl="/" onOpenExecution={onOpenExecution} onEdit={vi.fn()} openWindow={openWindow} />
    );
    const view = await screen.findByRole('region', { name: 'Workspace debug-fit-1' });
    const facts = within(view).getByLabelText('About this workspace');
    expect(facts.textContent).toContain('Resources1 CPU · 2Gi');
    expect(facts.textContent).toContain('Idle TTL30m 0s');
    expect(within(view).getByLabelText('Log of debug-fit-1').textContent).toBe('[manager] starting code-server\nHTTP server listening');
    fireEvent.click(within(facts).getByRole('button', { name: 'ex-9' }));
    expect(onOpenExecution).toHaveBeenCalledWith('ex-9');
    fireEvent.click(within(view).getByRole('button', { name: 'Open in VS Code' }));
    expect(openWindow).toHaveBeenCalledWith('/plait/workspaces/default/development/debug-fit-1/');
    fireEvent.click(within(view).getByRole('button', { name: 'Stop' }));
    await screen.findByText('stopped by ann');
    expect(within(view).queryByRole('button', { name: 'Open in VS Code' })).toBeNull();
    expect(calls.filter(c => c.method === 'POST').map(c => c.path)).toEqual(['workspaces/debug-fit-1/stop']);
  });
});

describe('WorkspaceView archive', () => {
  it('archives a workspace, after which it can only be unarchived', async () => {
    let archived = false;
    const { client, calls } = fakeBackend(c => {
      if (c.path === 'workspaces/old-ws') {
        return { body: workspace('old-ws', { archived }) };
      }
      if (c.path === 'workspaces/old-ws/log') {
        return { body: { lines: [] } };
      }
      if (c.path === 'workspaces/old-ws/archive' || c.path === 'workspaces/old-ws/unarchive') {
        archived = c.path.endsWith('/archive');
        return { body: workspace('old-ws', { archived }) };
      }
      return undefined;
    });
    render(<WorkspaceView client={client} name="old-ws" baseUrl="/" onOpenExecution={vi.fn()} onEdit={vi.fn()} />);
    const view = await screen.findByRole('region', { name: 'Workspace old-ws' });
    expect(within(view).getByRole('button', { name: 'Start' })).toBeTruthy();
    fireEvent.click(within(view).getByRole('button', { name: 'Archive' }));
    const unarchive = await within(view).findByRole('button', { name: 'Unarchive' });
    expect(within(view).queryByRole('button', { name: 'Start' })).toBeNull();
    expect(within(view).queryByRole('button', { name: 'Edit' })).toBeNull();
    fireEvent.click(unarchive);
    await within(view).findByRole('button', { name: 'Start' });
    expect(calls.filter(c => c.method === 'POST').map(c => c.path)).toEqual(['workspaces/old-ws/archive', 'workspaces/old-ws/unarchive']);
  });
});

describe('Debug in a workspace', () => {
  const execution = { id: 'ex-9', project: 'default', domain: 'development', phase: 'FAILED' } as unknown as Execution;
  const node = (phase: NodeRun['phase'], kind = 'task'): NodeRun => ({
    path: 'n1', parent_path: null, entity_name: 'flows.fit', entity_version: 'v1', kind, phase, inputs: {}, outputs: null,
    error: phase === 'FAILED' ? { kind: 'USER', type: 'ValueError', message: 'bad value' } : null,
    created_at: null, started_at: null, ended_at: null, attempts: []
  } as unknown as NodeRun);

  it('is offered on a failed task node, makes the workspace and opens it', async () => {
    const made = workspace('debug-flows-fit-ex-9', { phase: 'STARTING', desired: 'ACTIVE', origin: { execution_id: 'ex-9', node_id: 'n1' } });
    const { client, calls } = fakeBackend(c => (c.method === 'POST' && c.path === 'executions/ex-9/nodes/n1/debug' ? { status: 201, body: made } : undefined));
    const onOpenWorkspace = vi.fn();
    render(<NodePanel client={client} execution={execution} node={node('FAILED')} now={Date.now()} onClose={vi.fn()} onOpenWorkspace={onOpenWorkspace} />);
    fireEvent.click(screen.getByRole('button', { name: 'Debug in a workspace' }));
    await waitFor(() => expect(onOpenWorkspace).toHaveBeenCalledWith(made));
    expect(calls.find(c => c.path.endsWith('/debug'))!.body).toEqual({ start: true });
  });

  it('says why the backend refused', async () => {
    const { client } = fakeBackend(c =>
      c.path.endsWith('/debug')
        ? { status: 422, body: { error: 'invalid_field', field: 'node_id', message: 'task flows.fit has no registered code' } }
        : undefined
    );
    render(<NodePanel client={client} execution={execution} node={node('FAILED')} now={Date.now()} onClose={vi.fn()} onOpenWorkspace={vi.fn()} />);
    fireEvent.click(screen.getByRole('button', { name: 'Debug in a workspace' }));
    await screen.findByText('task flows.fit has no registered code');
  });

  it('is not offered on a node that did not fail, nor on a gate', () => {
    const { client } = fakeBackend(() => undefined);
    const { rerender } = render(
      <NodePanel client={client} execution={execution} node={node('SUCCEEDED')} now={Date.now()} onClose={vi.fn()} onOpenWorkspace={vi.fn()} />
    );
    expect(screen.queryByRole('button', { name: 'Debug in a workspace' })).toBeNull();
    rerender(<NodePanel client={client} execution={execution} node={node('FAILED', 'gate')} now={Date.now()} onClose={vi.fn()} onOpenWorkspace={vi.fn()} />);
    expect(screen.queryByRole('button', { name: 'Debug in a workspace' })).toBeNull();
  });
});
