import { afterEach, describe, expect, it } from 'vitest';

import type { Attempt, Execution } from '../src/api/client';
import { describeType } from '../src/api/literals';
import {
  appendLog,
  axisTicks,
  COLLAPSE_ABOVE,
  elapsed,
  executionDuration,
  follow,
  formatCores,
  formatMiB,
  formatTick,
  isHiddenElement,
  literalText,
  NodeRun,
  nodeTree,
  parseTime,
  pollTiming,
  taskNameOf,
  taskSummary,
  timeline,
  usageRows,
  valueView,
  visibleRows
} from '../src/execution/model';
import { isTerminal } from '../src/phases';

const T0 = Date.parse('2025-01-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function node(path: string, extra: Partial<NodeRun> = {}): NodeRun {
  return {
    path,
    parent_path: null,
    entity_name: `wf.${path}`,
    kind: 'task',
    phase: 'SUCCEEDED',
    inputs: null,
    outputs: null,
    error: null,
    created_at: at(0),
    started_at: null,
    ended_at: null,
    attempts: [],
    ...extra
  };
}

function attempt(number: number, extra: Partial<Attempt> = {}): Attempt {
  return {
    number,
    phase: 'SUCCEEDED',
    error_kind: null,
    error: null,
    worker: 'tcp://w1',
    outputs: null,
    cpu_avg: null,
    cpu_peak: null,
    mem_avg: null,
    mem_peak: null,
    started_at: at(0),
    ended_at: at(1),
    ...extra
  };
}

const execution = {
  started_at: at(0),
  created_at: at(0),
  ended_at: null
} as Pick<Execution, 'started_at' | 'created_at' | 'ended_at'>;

describe('durations', () => {
  it('reads timestamps without a zone as UTC', () => {
    expect(parseTime('2025-01-01T10:00:00')).toBe(T0);
    expect(parseTime('2025-01-01T10:00:00+00:00')).toBe(T0);
    expect(parseTime('2025-01-01T11:00:00+01:00')).toBe(T0);
    expect(parseTime(null)).toBeNull();
    expect(parseTime('not a time')).toBeNull();
  });

  it('runs to now while running and stops at the end', () => {
    expect(elapsed(at(0), at(90))).toBe(90);
    expect(elapsed(at(0), null, T0 + 12_500)).toBe(12.5);
    expect(elapsed(null, null, T0)).toBeNull();
  });

  it('makes an execution duration live until it ends', () => {
    const running = { started_at: at(0), ended_at: null, phase: 'RUNNING', duration_s: 3 } as Execution;
    expect(executionDuration(running, T0 + 7000)).toBe(7);
    const done = { ...running, phase: 'SUCCEEDED', ended_at: at(4) } as Execution;
    expect(executionDuration(done, T0 + 60_000)).toBe(4);
  });
});

describe('phases', () => {
  it('knows which phases end an execution', () => {
    for (const phase of ['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']) {
      expect(isTerminal(phase)).toBe(true);
    }
    for (const phase of ['QUEUED', 'RUNNING', undefined, null]) {
      expect(isTerminal(phase)).toBe(false);
    }
  });
});

describe('node tree', () => {
  it('puts children under their parent, indented', () => {
    const rows = nodeTree([
      node('n0'),
      node('n2'),
      node('n2-n0', { parent_path: 'n2' }),
      node('n1'),
      node('n2-n1', { parent_path: 'n2' }),
      node('n2-n1-n0', { parent_path: 'n2-n1' })
    ]);
    expect(rows.map(r => [r.node.path, r.depth])).toEqual([
      ['n0', 0],
      ['n2', 0],
      ['n2-n0', 1],
      ['n2-n1', 1],
      ['n2-n1-n0', 2],
      ['n1', 0]
    ]);
    expect(rows[1].childCount).toBe(2);
  });

  it('collapses big groups until toggled', () => {
    const items = Array.from({ length: COLLAPSE_ABOVE + 1 }, (_, i) => node(`n3-${i}`, { parent_path: 'n3' }));
    const rows = nodeTree([node('n3', { kind: 'map' }), ...items]);
    expect(visibleRows(rows, new Set()).map(r => r.node.path)).toEqual(['n3']);
    expect(visibleRows(rows, new Set(['n3']))).toHaveLength(COLLAPSE_ABOVE + 2);
  });

  it('names the task of a node, without map batch ranges', () => {
    expect(taskNameOf(node('n0', { entity_name: 'mod.square' }))).toBe('mod.square');
    expect(taskNameOf(node('n3-0', { entity_name: 'mod.square[0..9]' }))).toBe('mod.square');
    expect(taskNameOf(node('n2', { kind: 'workflow', entity_name: 'mod.sub' }))).toBeNull();
  });
});

describe('timeline', () => {
  it('places bars relative to the execution start; running bars reach now', () => {
    const rows = nodeTree([
      node('n0', { started_at: at(0), ended_at: at(2) }),
      node('n1', { started_at: at(2), phase: 'RUNNING' }),
      node('n1-n0', { parent_path: 'n1', started_at: at(3), phase: 'RUNNING' }),
      node('n2', { phase: 'QUEUED' })
    ]);
    const t = timeline(execution, rows, T0 + 10_000);
    expect(t.rows.map(r => [r.path, r.depth, r.start, r.end, r.running])).toEqual([
      ['n0', 0, 0, 2, false],
      ['n1', 0, 2, 10, true],
      ['n1-n0', 1, 3, 10, true],
      ['n2', 0, null, null, false]
    ]);
    expect(t.rows[0].label).toBe('n0: SUCCEEDED, 2.0 s');
    expect(t.rows[1].label).toBe('n1: RUNNING, 8.0 s');
    expect(t.rows[3].label).toBe('n2: QUEUED, —');
    expect(t.span).toBeGreaterThanOrEqual(10);
    expect(t.ticks[0]).toBe(0);
    expect(t.ticks[t.ticks.length - 1]).toBeGreaterThanOrEqual(10);
  });

  it('draws round ticks', () => {
    expect(axisTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(axisTicks(100)).toEqual([0, 30, 60, 90, 120]);
    expect(formatTick(0)).toBe('0');
    expect(formatTick(90)).toBe('1m30s');
    expect(formatTick(7200)).toBe('2h');
  });
});

describe('values', () => {
  it('shows inline literals as JSON', () => {
    expect(valueView({ literal: 3, hash: 'h' })).toEqual({ kind: 'literal', text: '3', multiline: false });
    expect(valueView({ literal: 'hi' })).toEqual({ kind: 'literal', text: '"hi"', multiline: false });
    expect(valueView({ literal: [1, 2] })).toEqual({ kind: 'literal', text: '[1,2]', multiline: false });
    const long = valueView({ literal: { weights: Array.from({ length: 30 }, (_, i) => i) } });
    expect(long.kind === 'literal' && long.multiline).toBe(true);
    expect(long.kind === 'literal' && JSON.parse(long.text).weights).toHaveLength(30);
  });

  it('spells tagged literals as people read them', () => {
    expect(literalText({ __datetime__: '2025-01-01T10:00:00' }).text).toBe('2025-01-01T10:00:00');
    expect(literalText({ __duration__: 90 }).text).toBe('90 s');
    expect(literalText({ __bytes__: 'ff00' }).text).toBe('<2 bytes>');
    expect(literalText({ at: { __date__: '2025-01-01' } }).text).toBe('{"at":"2025-01-01"}');
  });

  it('offers offloaded values for loading', () => {
    expect(valueView({ uri: 'executions/e/n0/1/outputs/o0.pkl', format: 'pickle', hash: 'x', preview: 'DataFrame(...)' }))
      .toEqual({
        kind: 'offloaded',
        uri: 'executions/e/n0/1/outputs/o0.pkl',
        format: 'pickle',
        preview: 'DataFrame(...)',
        hash: 'x',
        path: undefined
      });
  });

  it('shows collections and mappings of refs item by item', () => {
    const view = valueView({ collection: [{ literal: 1 }, { uri: 'u', format: 'pickle' }] });
    expect(view.kind).toBe('list');
    expect(view.kind === 'list' && view.items.map(i => i.kind)).toEqual(['literal', 'offloaded']);
    const map = valueView({ mapping: { a: { literal: true } } });
    expect(map).toEqual({ kind: 'mapping', entries: [['a', { kind: 'literal', text: 'true', multiline: false }]] });
  });
});

describe('resources', () => {
  it('formats cores and MiB', () => {
    expect(formatCores(0.853)).toBe('0.85 cores');
    expect(formatCores(1)).toBe('1 core');
    expect(formatCores(null)).toBe('—');
    expect(formatMiB(512 * 1024 * 1024)).toBe('512 MiB');
    expect(formatMiB(1.5 * 1024 * 1024)).toBe('1.5 MiB');
    expect(formatMiB(3 * 1024 ** 3)).toBe('3,072 MiB');
  });

  it('lists the use of measured attempts', () => {
    const rows = usageRows([
      attempt(1, { cpu_avg: 0.5, cpu_peak: 2, mem_avg: 100 * 2 ** 20, mem_peak: 200 * 2 ** 20 }),
      attempt(2)
    ]);
    expect(rows).toEqual([{ attempt: 1, cpuAvg: '0.5 cores', cpuPeak: '2 cores', memAvg: '100 MiB', memPeak: '200 MiB' }]);
  });
});

describe('task summary', () => {
  it('spells types like the kernel', () => {
    expect(describeType({ kind: 'list', of: { kind: 'integer' } })).toBe('list[int]');
    expect(describeType({ kind: 'dict', key: { kind: 'string' }, value: { kind: 'float' } })).toBe('dict[str, float]');
    expect(describeType({ kind: 'optional', of: { kind: 'dataclass', name: 'm.Point' } })).toBe('Optional[Point]');
  });

  it('renders interface, resources, retries, timeout, cache and image', () => {
    const rows = Object.fromEntries(
      taskSummary({
        task_type: 'python-task',
        interface: {
          inputs: { x: { type: { kind: 'integer' }, required: true }, k: { type: { kind: 'float' }, required: false, default: 2 } },
          outputs: { o0: { kind: 'list', of: { kind: 'integer' } } }
        },
        settings: {
          retries: 2,
          timeout: 600,
          cache: { version: 'v1', serialize: true, ignored_inputs: [] },
          requests: { cpu: '1', mem: '2Gi' },
          limits: null,
          container_image: 'python:3.11-slim'
        }
      })
    );
    expect(rows).toMatchObject({
      Type: 'python-task',
      Inputs: 'x: int, k: float = 2',
      Outputs: 'o0: list[int]',
      Requests: 'cpu 1, mem 2Gi',
      Retries: '2',
      Timeout: '10m 0s',
      Cache: 'version v1, serialized',
      Image: 'python:3.11-slim'
    });
    expect(rows.Limits).toBeUndefined();
    expect(taskSummary({ interface: { inputs: {}, outputs: {} }, settings: {} })).toContainEqual(['Cache', 'off']);
  });
});

describe('logs', () => {
  it('appends and keeps the tail under the cap', () => {
    let log = appendLog({ text: '', dropped: 0 }, 'abc', 5);
    log = appendLog(log, 'defg', 5);
    expect(log).toEqual({ text: 'cdefg', dropped: 2 });
  });
});

describe('follow', () => {
  const saved = { ...pollTiming };
  afterEach(() => Object.assign(pollTiming, saved));

  it('polls until done, then stops', async () => {
    Object.assign(pollTiming, { interval: 5, max: 20 });
    const phases = ['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED', 'SUCCEEDED'];
    let calls = 0;
    const seen: string[] = [];
    const follower = follow({
      name: 'test',
      fetch: async () => phases[Math.min(calls++, phases.length - 1)],
      onData: p => seen.push(p),
      done: p => isTerminal(p),
      key: p => p
    });
    await new Promise(resolve => setTimeout(resolve, 300));
    expect(seen).toEqual(['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(calls).toBe(4);
    follower.dispose();
  });

  it('keeps trying after errors and reports them', async () => {
    Object.assign(pollTiming, { interval: 5, max: 20 });
    let calls = 0;
    const errors: string[] = [];
    const seen: number[] = [];
    const follower = follow({
      name: 'test',
      fetch: async () => {
        if (calls++ === 0) {
          throw new Error('unavailable');
        }
        return calls;
      },
      onData: v => seen.push(v),
      done: () => true,
      onError: e => errors.push((e as Error).message)
    });
    await new Promise(resolve => setTimeout(resolve, 200));
    expect(errors).toEqual(['unavailable']);
    expect(seen).toEqual([2]);
    follower.dispose();
  });

  it('stands by while its element is hidden', async () => {
    Object.assign(pollTiming, { interval: 5, max: 10 });
    const widget = document.createElement('div');
    const el = document.createElement('pre');
    widget.appendChild(el);
    document.body.appendChild(widget);
    widget.classList.add('lm-mod-hidden');
    expect(isHiddenElement(el)).toBe(true);
    let calls = 0;
    const follower = follow({
      name: 'test',
      fetch: async () => ++calls,
      onData: () => undefined,
      done: () => false,
      hidden: () => isHiddenElement(el)
    });
    await new Promise(resolve => setTimeout(resolve, 60));
    expect(calls).toBe(0);
    widget.classList.remove('lm-mod-hidden');
    await new Promise(resolve => setTimeout(resolve, 60));
    expect(calls).toBeGreaterThan(0);
    follower.dispose();
    widget.remove();
  });
});
