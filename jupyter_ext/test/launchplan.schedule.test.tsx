import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { PlaitClient, Schemas, Transport } from '../src/api/client';
import { LaunchPlanSchedule } from '../src/workflow/LaunchPlanSchedule';

type State = Schemas['LaunchPlanState'];
type Run = Schemas['ScheduleRun'];

const NEXT = ['2026-12-06T10:00:00Z', '2026-12-06T10:01:00Z', '2026-12-06T10:02:00Z', '2026-12-06T10:03:00Z',
  '2026-12-06T10:04:00Z'];

function planState(active: string | null, version = 'v2'): State {
  return {
    project: 'default', domain: 'development', name: 'flows.nightly', active_version: active,
    activated_at: active ? '2026-12-06T09:00:00Z' : null, version, last_tick: null, schedule_error: null,
    schedule: {
      kind: 'cron', description: 'every minute (UTC)', expression: '* * * * *', time_zone: 'UTC',
      kickoff_time_input_arg: 'run_at', catch_up: 'skip', next_times: NEXT
    }
  };
}

const RUNS: Run[] = [
  { name: 'flows.nightly', version: 'v1', tick: '2026-12-06T09:59:00Z', outcome: 'skipped', execution_id: null,
    detail: 'Concurrency limit (1) reached: 1 active', recorded_at: '2026-12-06T09:59:00Z' },
  { name: 'flows.nightly', version: 'v1', tick: '2026-12-06T09:58:00Z', outcome: 'launched', execution_id: 'ex-58',
    detail: null, recorded_at: '2026-12-06T09:58:00Z' }
];

/** The launch plan routes in memory; records the POSTs. */
function backend(initial: State) {
  let state = initial;
  const posts: string[] = [];
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  const transport: Transport = async (url, init) => {
    const path = decodeURIComponent(new URL(url, 'http://plait/').pathname.slice(1));
    if ((init.method ?? 'GET') === 'POST') {
      posts.push(path);
      state = path.endsWith('/activate') ? planState(path.split('/')[3]) : planState(null);
      return json(state);
    }
    if (path.endsWith('/state')) {
      return json(state);
    }
    return json({ items: RUNS, limit: 20, offset: 0, next_offset: null });
  };
  return { client: new PlaitClient(transport), posts };
}

afterEach(cleanup);

describe('LaunchPlanSchedule', () => {
  it('shows the active badge, the schedule in words, the next five times and the ticks', async () => {
    const open = vi.fn();
    const { client } = backend(planState('v1'));
    render(<LaunchPlanSchedule client={client} name="flows.nightly" version="v2" onOpenExecution={open} />);
    expect((await screen.findByRole('status', { name: 'Activation' })).textContent).toBe('active: v1');
    expect(screen.getByLabelText('Schedule in words').textContent).toContain('every minute (UTC)');
    expect(screen.getByLabelText('Next times').querySelectorAll('li')).toHaveLength(5);
    expect(screen.getByText('skipped')).toBeTruthy();
    expect(screen.getByText('Concurrency limit (1) reached: 1 active')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'ex-58' }));
    expect(open).toHaveBeenCalledWith('ex-58');
  });

  it('activates the version shown, and deactivates only after confirmation', async () => {
    const { client, posts } = backend(planState(null));
    render(<LaunchPlanSchedule client={client} name="flows.nightly" version="v2" onOpenExecution={() => {}} />);
    expect((await screen.findByRole('status', { name: 'Activation' })).textContent).toBe('inactive');
    fireEvent.click(screen.getByRole('button', { name: 'Activate version v2' }));
    await waitFor(() => expect(screen.getByRole('status', { name: 'Activation' }).textContent).toBe('active: v2'));
    expect(posts).toEqual(['launch_plans/flows.nightly/versions/v2/activate']);

    fireEvent.click(screen.getByRole('button', { name: 'Deactivate' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Deactivate flows.nightly?' });
    expect(posts).toHaveLength(1); // nothing sent before the confirmation
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(dialog.isConnected).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Deactivate' }));
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    await waitFor(() => expect(screen.getByRole('status', { name: 'Activation' }).textContent).toBe('inactive'));
    expect(posts).toEqual(['launch_plans/flows.nightly/versions/v2/activate', 'launch_plans/flows.nightly/deactivate']);
  });
});
