import { describe, expect, it } from 'vitest';

import { deployExecutionDashboard } from '../src/apps/dashboards';
import {
  appUrl,
  changing,
  inputRows,
  logReplica,
  openable,
  resourcesText,
  restartsText,
  runningWanted,
  shouldPoll,
  statusClass,
  viewShouldPoll
} from '../src/apps/model';
import { appPolling, watch } from '../src/apps/poll';
import type { AppView, Replica } from '../src/apps/types';

function replica(slot: number, extra: Partial<Replica> = {}): Replica {
  return { slot, revision: 1, phase: 'READY', restarts: 0, last_exit: null, started_at: null, ready_at: null, ...extra };
}

describe('status badges', () => {
  it('gives each status and replica phase its own colour class', () => {
    expect(statusClass('Scaled to zero')).toBe('plait-phase-scaled-to-zero');
    expect(statusClass('Pending')).toBe('plait-phase-pending');
    expect(statusClass('BACKOFF')).toBe('plait-phase-backoff');
    expect(statusClass(null)).toBe('plait-phase-unknown');
  });
});

describe('polling decision', () => {
  it('asks again while an app is Pending or not yet where it was asked to be', () => {
    expect(changing({ status: 'Pending', desired_state: 'Started' })).toBe(true);
    expect(changing({ status: 'Started', desired_state: 'Stopped' })).toBe(true);
    expect(changing({ status: 'Stopped', desired_state: 'Started' })).toBe(true);
    expect(changing({ status: 'Started', desired_state: 'Started' })).toBe(false);
    expect(changing({ status: 'Scaled to zero', desired_state: 'Started' })).toBe(false);
    expect(changing({ status: 'Failed', desired_state: 'Started' })).toBe(false);
    expect(changing({ status: 'Failed', desired_state: 'Stopped' })).toBe(false);
  });

  it('polls the list while any app changes, and the view while a replica starts or backs off', () => {
    const started = { status: 'Started', desired_state: 'Started' } as const;
    expect(shouldPoll([started, started])).toBe(false);
    expect(shouldPoll([started, { status: 'Pending', desired_state: 'Started' }])).toBe(true);
    expect(shouldPoll([])).toBe(false);
    expect(viewShouldPoll({ ...started, replicas: [replica(0)] })).toBe(false);
    expect(viewShouldPoll({ ...started, replicas: [replica(0), replica(1, { phase: 'BACKOFF' })] })).toBe(true);
  });

  it('watches every interval while asked to, and stops once the answer settles', async () => {
    const saved = appPolling.interval;
    appPolling.interval = 10;
    try {
      const answers = ['Pending', 'Pending', 'Started', 'Started'];
      const seen: string[] = [];
      let done!: () => void;
      const settled = new Promise<void>(resolve => (done = resolve));
      const watcher = watch<string>({
        name: 'test',
        fetch: async () => answers.shift() ?? 'extra',
        onData: v => {
          seen.push(v);
          if (v === 'Started') {
            done();
          }
        },
        again: v => v === 'Pending'
      });
      await settled;
      await new Promise(resolve => setTimeout(resolve, 60));
      watcher.dispose();
      expect(seen).toEqual(['Pending', 'Pending', 'Started']);
    } finally {
      appPolling.interval = saved;
    }
  });
});

describe('formatting', () => {
  const app = {
    name: 'echo',
    project: 'default',
    domain: 'development',
    resources: { cpu: '1', mem: '1Gi', gpu: null }
  } as Pick<AppView, 'name' | 'project' | 'domain' | 'resources'>;

  it('writes resources, with the GPUs only when there are some', () => {
    expect(resourcesText(app)).toBe('1 CPU · 1Gi');
    expect(resourcesText({ resources: { cpu: null, mem: null, gpu: '2' } })).toBe('— CPU · — · 2 GPU');
    expect(resourcesText({ resources: { cpu: null, mem: null, gpu: null } })).toBe('the server’s defaults');
  });

  it('serves an app under the lab base URL, each part encoded', () => {
    expect(appUrl('/user/ann/', app)).toBe('/user/ann/plait/apps/default/development/echo/');
    expect(appUrl('/lab-base', { ...app, project: 'a b' })).toBe('/lab-base/plait/apps/a%20b/development/echo/');
  });

  it('lists inputs by name with the artifact version they serve', () => {
    expect(
      inputRows({
        model: { env_var: 'MODEL_PATH', download: true, artifact: { name: 'iris_model', version: 'v3', id: 7 } },
        greeting: { env_var: 'GREETING', download: false }
      })
    ).toEqual([
      { name: 'greeting', envVar: 'GREETING', download: false, artifact: null },
      { name: 'model', envVar: 'MODEL_PATH', download: true, artifact: 'iris_model:v3' }
    ]);
    expect(inputRows(undefined)).toEqual([]);
  });

  it('counts restarts and picks the replica whose log is shown', () => {
    expect([0, 1, 4].map(n => restartsText({ restarts: n }))).toEqual(['none', '1 restart', '4 restarts']);
    const replicas = [replica(1), replica(0)];
    expect(logReplica(replicas, null)).toBe(0);
    expect(logReplica(replicas, 1)).toBe(1);
    expect(logReplica(replicas, 5)).toBe(0); // gone: back to the first
    expect(logReplica([], null)).toBe(0);
  });

  it('offers Open only where a request reaches a replica, and Stop while it is asked to run', () => {
    expect(openable({ status: 'Started', desired_state: 'Started' })).toBe(true);
    expect(openable({ status: 'Scaled to zero', desired_state: 'Started' })).toBe(true);
    expect(openable({ status: 'Pending', desired_state: 'Started' })).toBe(false);
    expect(openable({ status: 'Started', desired_state: 'Stopped' })).toBe(false);
    expect(runningWanted({ status: 'Pending', desired_state: 'Started' })).toBe(true);
    expect(runningWanted({ status: 'Failed', desired_state: 'Started' })).toBe(false);
    expect(runningWanted({ status: 'Stopped', desired_state: 'Stopped' })).toBe(false);
  });
});

describe('deployExecutionDashboard', () => {
  it('posts to the lab route and gives the app, or the server’s message', async () => {
    const calls: Array<[string, RequestInit]> = [];
    const app = { name: 'run-abc', project: 'default', domain: 'development', url: '/apps/default/development/run-abc/', status: 'Started' };
    const ok = await deployExecutionDashboard(async (url, init) => {
      calls.push([url, init]);
      return new Response(JSON.stringify({ app }), { status: 200 });
    }, 'abc');
    expect(ok).toEqual(app);
    expect(calls).toEqual([['execution/abc', { method: 'POST' }]]);
    await expect(
      deployExecutionDashboard(
        async () => new Response(JSON.stringify({ error: 'not_succeeded', message: 'execution abc is FAILED' }), { status: 409 }),
        'abc'
      )
    ).rejects.toThrow('execution abc is FAILED');
  });
});
