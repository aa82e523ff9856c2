import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { PlaitClient, Transport } from '../src/api/client';
import { AppList } from '../src/apps/AppList';
import { AppView } from '../src/apps/AppView';
import { DashboardButton } from '../src/apps/DashboardButton';
import { appPolling } from '../src/apps/poll';
import type { AppView as App, DeployedDashboard, Replica } from '../src/apps/types';

function replica(slot: number, extra: Partial<Replica> = {}): Replica {
  return { slot, revision: 2, phase: 'READY', restarts: 0, last_exit: null, started_at: null, ready_at: null, ...extra };
}

function app(name: string, extra: Partial<App> = {}): App {
  return {
    name, project: 'default', domain: 'development', spec: {}, revision: 2, status: 'Started', desired_state: 'Started',
    reason: null, url: `/apps/default/development/${name}/`, requires_auth: true, replicas: [replica(0)],
    resources: { cpu: '1', mem: '1Gi', gpu: null }, inputs: {},
    created_at: new Date(Date.now() - 3600_000).toISOString(), updated_at: new Date(Date.now() - 60_000).toISOString(),
    ...extra
  };
}

interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
}

type Answer = { status?: number; body: unknown } | undefined;

/** The app routes in memory: `route` answers; every call is recorded. */
function fakeBackend(route: (call: Call) => Answer) {
  const calls: Call[] = [];
  const transport: Transport = async (url, init) => {
    const parsed = new URL(url, 'http://plait/');
    const call: Call = { method: init.method ?? 'GET', path: decodeURIComponent(parsed.pathname.slice(1)), query: parsed.searchParams };
    calls.push(call);
    const answer = route(call) ?? { status: 404, body: { error: 'not_found', message: `no route ${call.method} ${call.path}` } };
    return new Response(JSON.stringify(answer.body), { status: answer.status ?? 200 });
  };
  return { client: new PlaitClient(transport), calls };
}

const saved = appPolling.interval;
beforeEach(() => {
  appPolling.interval = 20;
});
afterEach(() => {
  appPolling.interval = saved;
  cleanup();
});

describe('AppList', () => {
  it('shows each app with its status, desired state, CPU, memory and endpoint; Open opens the lab forward', async () => {
    const rows = [
      app('echo'),
      app('crashy', { status: 'Failed', reason: 'exited with code 3 five times', replicas: [] }),
      app('board', { status: 'Stopped', desired_state: 'Stopped', replicas: [], resources: { cpu: null, mem: null, gpu: null } })
    ];
    const { client } = fakeBackend(c => (c.path === 'apps' ? { body: { apps: rows } } : undefined));
    const openWindow = vi.fn();
    const onOpenApp = vi.fn();
    render(<AppList client={client} generation={0} baseUrl="/user/ann/" onOpenApp={onOpenApp} openWindow={openWindow} />);
    const list = screen.getByRole('list', { name: 'Apps' });
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(3));
    const [board, crashy, echo] = within(list).getAllByRole('listitem');
    expect(within(echo).getByRole('button', { name: 'App echo' }).textContent).toBe('echoStarteddesired Started · 1 CPU · 1Gi');
    expect(within(board).getByRole('button', { name: 'App board' }).textContent).toBe('boardStoppeddesired Stopped · — CPU · —');
    expect(echo.textContent).toContain('/apps/default/development/echo/');
    expect(crashy.textContent).toContain('exited with code 3 five times');
    expect(within(crashy).queryByRole('button', { name: 'Open crashy' })).toBeNull();
    expect(within(board).queryByRole('button', { name: 'Open board' })).toBeNull();
    expect(within(echo).getByText('Started').className).toContain('plait-phase-started');

    fireEvent.click(within(echo).getByRole('button', { name: 'Open echo' }));
    expect(openWindow).toHaveBeenCalledWith('/user/ann/plait/apps/default/development/echo/');
    fireEvent.click(within(echo).getByRole('button', { name: 'App echo' }));
    expect(onOpenApp).toHaveBeenCalledWith('echo', { project: 'default', domain: 'development' });
  });

  it('asks again while an app is Pending, and stops once it has started', async () => {
    const answers = [
      [app('echo', { status: 'Pending', replicas: [replica(0, { phase: 'STARTING' })] })],
      [app('echo', { status: 'Pending', replicas: [replica(0, { phase: 'STARTING' })] })],
      [app('echo')]
    ];
    const { client, calls } = fakeBackend(c => (c.path === 'apps' ? { body: { apps: answers.length > 1 ? answers.shift() : answers[0] } } : undefined));
    render(<AppList client={client} generation={0} baseUrl="/" onOpenApp={vi.fn()} openWindow={vi.fn()} />);
    const row = await screen.findByRole('button', { name: 'App echo' });
    expect(row.textContent).toMatch(/^echoPending/);
    await waitFor(() => expect(screen.getByRole('button', { name: 'App echo' }).textContent).toMatch(/^echoStarted/));
    const asked = calls.length;
    await act(() => new Promise(resolve => setTimeout(resolve, 100)));
    expect(asked).toBe(3);
    expect(calls.length).toBe(asked); // settled: nothing more
  });

  it('says how to make an app when there is none', async () => {
    const { client } = fakeBackend(() => ({ body: { apps: [] } }));
    render(<AppList client={client} generation={0} baseUrl="/" onOpenApp={vi.fn()} />);
    expect((await screen.findByRole('status')).textContent).toContain('plait deploy apps FILE NAME');
  });
});

describe('AppView', () => {
  const served = app('model-api', {
    revision: 3,
    requires_auth: false,
    reason: 'replica 1 restarted: exited with code 1',
    inputs: { model: { env_var: 'MODEL_PATH', download: true, artifact: { name: 'iris_model', version: 'v7', id: 9 } } },
    replicas: [replica(0, { revision: 3 }), replica(1, { revision: 3, restarts: 2, last_exit: 'exit code 1' })]
  });

  function backend(current: () => App) {
    return fakeBackend(c => {
      if (c.path === 'apps/model-api') {
        return { body: current() };
      }
      if (c.path === 'apps/model-api/events') {
        return { body: { events: [{ at: '2026-12-06T10:00:00+00:00', message: 'revision 3 deployed' }, { at: '2026-12-06T10:00:02+00:00', message: 'replica 0 ready' }] } };
      }
      if (c.path === 'apps/model-api/logs') {
        return { body: { lines: [`log of replica ${c.query.get('replica')}`] } };
      }
      if (c.method === 'POST' && c.path === 'apps/model-api/stop') {
        return { body: { ...current(), desired_state: 'Stopped' } };
      }
      return undefined;
    });
  }

  it('shows status, revision, auth, resources, inputs, replicas, events and a chosen replica’s log', async () => {
    const { client, calls } = backend(() => served);
    const openWindow = vi.fn();
    render(<AppView client={client} name="model-api" scope={{ project: 'default' }} baseUrl="/lab-base/" openWindow={openWindow} />);
    const view = await screen.findByRole('region', { name: 'App model-api' });
    expect(within(view).getByRole('heading', { level: 1 }).textContent).toBe('model-api Started');
    const facts = within(view).getByLabelText('About this app');
    expect(facts.textContent).toContain('Revision3');
    expect(facts.textContent).toContain('Requires authno: public on its own path');
    expect(facts.textContent).toContain('Resources1 CPU · 1Gi');
    expect(facts.textContent).toContain('StatusStarted · replica 1 restarted: exited with code 1');
    expect(within(view).queryByRole('status')).toBeNull(); // a started app's reason is no warning
    const inputs = within(view).getByRole('region', { name: 'Inputs' });
    expect(within(inputs).getAllByRole('row')[1].textContent).toBe('modeliris_model:v7MODEL_PATHyes');
    const replicas = within(within(view).getByRole('region', { name: 'Replicas' })).getAllByRole('row');
    expect(replicas.map(r => r.textContent)).toEqual([
      'ReplicaPhaseRevisionRestartsLast exitReady since',
      '0READY3none——',
      '1READY32 restartsexit code 1—'
    ]);
    expect(within(view).getByLabelText('Events of model-api').textContent).toContain('revision 3 deployed');
    expect(within(view).getByLabelText('Log of model-api replica 0').textContent).toBe('log of replica 0');

    fireEvent.change(within(view).getByLabelText('Replica whose log is shown'), { target: { value: '1' } });
    await waitFor(() => expect(within(view).getByLabelText('Log of model-api replica 1').textContent).toBe('log of replica 1'));
    expect(calls.filter(c => c.path === 'apps/model-api').every(c => c.query.get('project') === 'default')).toBe(true);

    fireEvent.click(within(view).getByRole('button', { name: 'Open' }));
    expect(openWindow).toHaveBeenCalledWith('/lab-base/plait/apps/default/development/model-api/');
  });

  it('stops the app and follows it until it is stopped; a stopped app offers Start and no Open', async () => {
    let current: App = app('model-api');
    const { client, calls } = backend(() => current);
    render(<AppView client={client} name="model-api" baseUrl="/" />);
    const stop = await screen.findByRole('button', { name: 'Stop' });
    current = { ...current, desired_state: 'Stopped' }; // the manager has not stopped it yet
    fireEvent.click(stop);
    await waitFor(() => expect(calls.some(c => c.method === 'POST' && c.path === 'apps/model-api/stop')).toBe(true));
    await waitFor(() => expect(screen.getByLabelText('About this app').textContent).toContain('(asked to be Stopped)'));
    current = { ...current, status: 'Stopped', replicas: [] };
    await waitFor(() => expect(screen.getByText('No replica runs.')).toBeTruthy());
    expect(screen.getByRole('button', { name: 'Start' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Open' })).toBeNull();
  });

  it('shows why a failed app failed', async () => {
    const { client } = backend(() => app('model-api', { status: 'Failed', reason: 'exited with code 3 five times in a row' }));
    render(<AppView client={client} name="model-api" baseUrl="/" />);
    expect((await screen.findByRole('alert')).textContent).toBe('Failed: exited with code 3 five times in a row');
  });
});

describe('DashboardButton', () => {
  it('shows progress while it deploys, then opens the app’s view and offers Open', async () => {
    let finish!: (app: DeployedDashboard) => void;
    const deploy = vi.fn(() => new Promise<DeployedDashboard>(resolve => (finish = resolve)));
    const onOpenApp = vi.fn();
    const openWindow = vi.fn();
    render(<DashboardButton executionId="f3a9" deploy={deploy} onOpenApp={onOpenApp} baseUrl="/b/" openWindow={openWindow} />);
    fireEvent.click(screen.getByRole('button', { name: 'Dashboard' }));
    expect(deploy).toHaveBeenCalledWith('f3a9');
    expect((screen.getByRole('button', { name: 'Deploying dashboard…' }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByRole('status').textContent).toContain('f3a9');
    await act(async () => finish({ name: 'run-f3a9', project: 'default', domain: 'development', url: '/apps/default/development/run-f3a9/', status: 'Started' }));
    expect(onOpenApp).toHaveBeenCalledWith('run-f3a9', { project: 'default', domain: 'development' });
    fireEvent.click(screen.getByRole('button', { name: 'Open dashboard' }));
    expect(openWindow).toHaveBeenCalledWith('/b/plait/apps/default/development/run-f3a9/');
  });

  it('says why a deploy failed and lets the user try again', async () => {
    const deploy = vi.fn(async () => {
      throw new Error('execution f3a9 has no outputs to show');
    });
    render(<DashboardButton executionId="f3a9" deploy={deploy} onOpenApp={vi.fn()} baseUrl="/" />);
    fireEvent.click(screen.getByRole('button', { name: 'Dashboard' }));
    expect((await screen.findByRole('alert')).textContent).toBe('execution f3a9 has no outputs to show');
    expect((screen.getByRole('button', { name: 'Dashboard' }) as HTMLButtonElement).disabled).toBe(false);
  });
});
