import { describe, expect, it } from 'vitest';

import type { ExecutionSummary as Execution } from '../src/api/client';
import { rowTooltip } from '../src/sidebar/executions';
import { sortRows } from '../src/sidebar/ExecutionTable';

function run(id: string, fields: Partial<Execution> = {}): Execution {
  return {
    id, project: 'default', domain: 'development',
    entity: { kind: 'workflow', name: 'flows.train', version: 'v7' }, launch_plan: null, phase: 'SUCCEEDED',
    error: null, parent_execution_id: null, parent_node_path: null, abort_requested: false,
    created_at: '2026-12-06T10:00:00Z', started_at: '2026-12-06T10:00:01Z', ended_at: '2026-12-06T10:00:05Z',
    duration_s: 4, ...fields
  } as Execution;
}

describe('execution rows', () => {
  it('put the id, what ran and a failure in the tooltip', () => {
    const failed = run('ab12', {
      phase: 'FAILED',
      launch_plan: { kind: 'launch_plan', name: 'flows.nightly', version: 'v7' },
      error: { kind: 'USER', type: 'ValueError', message: 'lr must be positive\nmore detail', node: 'n2' }
    });
    expect(rowTooltip(failed, iso => iso ?? '')).toBe(
      'ab12 · FAILED\nworkflow flows.train@v7\nlaunch plan flows.nightly\nstarted 2026-12-06T10:00:01Z · 4.0 s\n' +
        'ValueError: lr must be positive (node n2)'
    );
    expect(rowTooltip(run('cd34'), () => 'then')).toBe('cd34 · SUCCEEDED\nworkflow flows.train@v7\nstarted then · 4.0 s');
  });

  it('sort by any column, missing values last in both directions', () => {
    const rows = [
      run('a', { entity: { kind: 'task', name: 'm.zeta', version: '1' }, duration_s: 3 }),
      run('b', { entity: { kind: 'workflow', name: 'm.Alpha', version: '1' }, duration_s: null }),
      run('c', { entity: { kind: 'workflow', name: 'm.beta', version: '1' }, duration_s: 10 })
    ];
    expect(sortRows(rows, 'name', true).map(e => e.id)).toEqual(['b', 'c', 'a']);
    expect(sortRows(rows, 'duration', true).map(e => e.id)).toEqual(['a', 'c', 'b']);
    expect(sortRows(rows, 'duration', false).map(e => e.id)).toEqual(['c', 'a', 'b']);
  });
});
