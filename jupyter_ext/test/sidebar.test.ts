import { describe, expect, it } from 'vitest';

import type { ExecutionSummary as Execution } from '../src/api/client';
import { PlaitClient, Transport } from '../src/api/client';
import { ExecutionPages, PAGE } from '../src/sidebar/executions';

function execution(i: number, phase = 'SUCCEEDED'): Execution {
  return {
    id: `e${i}`, project: 'default', domain: 'development',
    entity: { kind: 'workflow', name: 'mod.wf', version: 'v1' }, launch_plan: null, phase,
    error: null, parent_execution_id: null, parent_node_path: null,
    abort_requested: false, created_at: new Date(1e12 - i * 1000).toISOString(), started_at: null,
    ended_at: null, duration_s: null
  } as Execution;
}

/** A backend with `total` executions, newest first, answering the list route like the real one. */
function backend(total: () => Execution[]) {
  const calls: URLSearchParams[] = [];
  const transport: Transport = async url => {
    const query = new URLSearchParams(url.split('?')[1]);
    calls.push(query);
    const all = total().filter(e => !query.get('phase') || query.getAll('phase').includes(e.phase));
    const offset = Number(query.get('offset')), limit = Number(query.get('limit'));
    const items = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? offset + limit : null;
    return new Response(JSON.stringify({ items, limit, offset, next_offset: next }), { status: 200 });
  };
  return { client: new PlaitClient(transport), calls };
}

describe('ExecutionPages', () => {
  it('searches names and ids through the search parameter, and knows an empty result is filtered', async () => {
    const { client, calls } = backend(() => []);
    const pages = new ExecutionPages(client);
    await pages.loadMore();
    expect(pages.filtered).toBe(false); // nothing ran yet
    pages.setFilter({ search: 'predict' });
    await pages.loadMore();
    expect(calls[calls.length - 1].get('search')).toBe('predict');
    expect(calls[calls.length - 1].get('name')).toBeNull();
    expect(pages.complete && pages.rows.length === 0 && pages.filtered).toBe(true); // "No executions match"
  });

  it('loads pages on demand until the list is complete', async () => {
    const rows = Array.from({ length: 450 }, (_, i) => execution(i));
    const { client, calls } = backend(() => rows);
    const pages = new ExecutionPages(client);
    await pages.loadMore();
    expect(pages.rows).toHaveLength(PAGE);
    expect(pages.complete).toBe(false);
    await pages.loadMore();
    await pages.loadMore();
    expect(pages.rows.map(e => e.id)).toEqual(rows.map(e => e.id));
    expect(pages.complete).toBe(true);
    await pages.loadMore(); // nothing more to ask for
    expect(calls).toHaveLength(3);
  });

  it('merges a refresh: new runs on top, changed phases in place, and says whether anything changed', async () => {
    let rows = [execution(1, 'RUNNING'), execution(2)];
    const { client } = backend(() => rows);
    const pages = new ExecutionPages(client);
    await pages.loadMore();
    expect(await pages.refresh()).toBe(false);
    rows = [execution(0, 'QUEUED'), execution(1, 'SUCCEEDED'), execution(2)];
    let notified = 0;
    pages.subscribe(() => notified++);
    expect(await pages.refresh()).toBe(true);
    expect(pages.rows.map(e => [e.id, e.phase])).toEqual([['e0', 'QUEUED'], ['e1', 'SUCCEEDED'], ['e2', 'SUCCEEDED']]);
    expect(notified).toBe(1);
  });

  it('starts over when the filter changes, asking the backend for that phase', async () => {
    const rows = [execution(1, 'FAILED'), execution(2), execution(3, 'FAILED')];
    const { client, calls } = backend(() => rows);
    const pages = new ExecutionPages(client);
    await pages.loadMore();
    pages.setFilter({ phase: ['FAILED'] });
    await pages.loadMore();
    expect(calls[calls.length - 1].getAll('phase')).toEqual(['FAILED']);
    expect(pages.rows.map(e => e.id)).toEqual(['e1', 'e3']);
  });

  it('keeps what it has and reports the error when a page fails', async () => {
    const pages = new ExecutionPages(new PlaitClient(async () =>
      new Response(JSON.stringify({ message: 'backend down' }), { status: 502 })));
    await pages.loadMore();
    expect(pages.rows).toHaveLength(0);
    expect(pages.error).toBe('backend down');
  });
});
