// @vitest-environment node
import { describe, expect, it } from 'vitest';

import { countNodes, layoutDag, type DagLayout } from '../src/dag/layout';
import type { Dag, DagNode } from '../src/dag/types';
import bothWays from './fixtures/dag-both_ways.json';
import doubledThenSquared from './fixtures/dag-doubled_then_squared.json';
import flagAnomalies from './fixtures/dag-flag_anomalies.json';
import nestedChoice from './fixtures/dag-nested_choice.json';
import predict from './fixtures/dag-predict.json';
import sumOfSquares from './fixtures/dag-sum_of_squares.json';

const bundle = (json: unknown) => json as Dag;

function box(layout: DagLayout, path: string) {
  const found = layout.boxes.find(b => b.role === 'node' && b.path === path);
  if (!found) {
    throw new Error(`no box for ${path}`);
  }
  return found;
}

function inside(outer: { x: number; y: number; width: number; height: number },
                inner: { x: number; y: number; width: number; height: number }): boolean {
  return inner.x >= outer.x && inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
}

function chain(n: number): Dag {
  const nodes: DagNode[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push({
      id: `n${i}`, path: `n${i}`, label: `step_${i}`, entity: `step_${i}`, kind: 'task',
      inputs: [{ name: 'x', type: 'int', source: i === 0 ? { input: 'x' } : { node: `n${i - 1}`, output: 'o0' } }],
      outputs: [{ name: 'o0', type: 'int' }]
    });
  }
  return {
    version: 1, name: 'bench.chain', label: 'chain', kind: 'workflow',
    inputs: [{ name: 'x', type: 'int' }],
    outputs: [{ name: 'o0', type: 'int', source: { node: `n${n - 1}`, output: 'o0' } }],
    nodes,
    edges: nodes.slice(1).map((_, i) => ({ source: `n${i}`, target: `n${i + 1}`, kind: 'data', label: 'o0 → x' }))
  };
}

// Generous timeouts: the first layout in a process compiles ELK, and CI machines are shared.
describe('layoutDag', { timeout: 30_000 }, () => {
  it('lays out a workflow left to right with its inputs and outputs as ports', async () => {
    const layout = await layoutDag(bundle(predict));
    const roles = layout.boxes.map(b => `${b.role}:${b.label}`);
    expect(roles).toEqual(expect.arrayContaining(['input:val', 'input:x', 'input:y', 'node:fit_line',
                                                 'node:point_on_line', 'output:o0']));
    const fit = box(layout, 'n0');
    const point = box(layout, 'n1');
    expect(point.x).toBeGreaterThan(fit.x + fit.width);
    const x = layout.boxes.find(b => b.role === 'input' && b.label === 'x')!;
    expect(x.x + x.width).toBeLessThanOrEqual(fit.x);
    expect(layout.edges.map(e => e.kind).sort()).toEqual(['data', 'input', 'input', 'input', 'output']);
    for (const e of layout.edges) {
      expect(e.points.length).toBeGreaterThanOrEqual(2);
    }
    expect(layout.width).toBeGreaterThan(0);
  });

  it('keeps subworkflows and launch plans collapsed unless expanded', async () => {
    const collapsed = await layoutDag(bundle(bothWays));
    expect(collapsed.boxes.filter(b => b.role === 'node').map(b => [b.path, b.kind, b.expandable, b.expanded]))
      .toEqual([['n0', 'workflow', true, false], ['n1', 'launch_plan', true, false]]);

    const expanded = await layoutDag(bundle(bothWays), new Set(['n0']));
    const sub = box(expanded, 'n0');
    const inner = box(expanded, 'n0-n0');
    expect(sub.expanded).toBe(true);
    expect(inner.depth).toBe(1);
    expect(inside(sub, inner)).toBe(true);
    // the subworkflow's own inputs are ports inside it
    const ports = expanded.boxes.filter(b => b.role === 'input' && b.depth === 1);
    expect(ports.map(p => p.label)).toEqual(['a', 'b']);
    expect(ports.every(p => inside(sub, p))).toBe(true);
    // containers come before their contents
    expect(expanded.boxes.indexOf(sub)).toBeLessThan(expanded.boxes.indexOf(inner));
    expect(sub.width).toBeGreaterThan(box(collapsed, 'n0').width);
  });

  it('expands a branch into one box per case', async () => {
    const collapsed = await layoutDag(bundle(doubledThenSquared));
    expect(collapsed.boxes.filter(b => b.role === 'node').map(b => b.label)).toEqual(['first', 'second']);
    // the cases read the workflow input, so the collapsed branch is fed by it
    expect(collapsed.edges.some(e => e.kind === 'input' && e.target === box(collapsed, 'n0').id)).toBe(true);

    const layout = await layoutDag(bundle(doubledThenSquared), new Set(['n3']));
    const second = box(layout, 'n3');
    const cases = layout.boxes.filter(b => b.role === 'case');
    expect(cases.map(c => c.detail)).toEqual(['output `o0` of `first` (node n0) > 5.0', 'else']);
    expect(cases.every(c => inside(second, c))).toBe(true);
    expect(inside(cases[0], box(layout, 'n4'))).toBe(true);
    expect(inside(cases[1], box(layout, 'n5'))).toBe(true);
    expect(box(layout, 'n0').expanded).toBe(false);
  });

  it('expands nested branches and subworkflows, with a fail case', async () => {
    const all = new Set(['n0', 'n1', 'n1-n0', 'n2', 'n2-n0']);
    const layout = await layoutDag(bundle(nestedChoice), all);
    const paths = layout.boxes.filter(b => b.role === 'node').map(b => b.path);
    expect(paths).toEqual(['n0', 'n1', 'n1-n0', 'n1-n1', 'n1-n2', 'n2', 'n2-n0', 'n2-n1', 'n2-n2']);
    expect(countNodes(bundle(nestedChoice), all)).toBe(paths.length);
    expect(countNodes(bundle(nestedChoice))).toBe(1);
    const fail = layout.boxes.find(b => b.role === 'case' && b.label.includes('fail'))!;
    expect(fail.label).toBe('else → fail: the value must be in (0, 10]');
    expect(inside(box(layout, 'n1-n0'), fail)).toBe(true);
    expect(box(layout, 'n2-n1').depth).toBe(5);
    const ids = layout.boxes.map(b => b.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lays out a map node and a lone dynamic workflow', async () => {
    const map = await layoutDag(bundle(flagAnomalies));
    expect(box(map, 'n0')).toMatchObject({ label: 'map(is_anomaly)', kind: 'map', expandable: false });
    const dynamic = await layoutDag(bundle(sumOfSquares));
    expect(box(dynamic, '')).toMatchObject({ label: 'sum_of_squares', kind: 'dynamic' });
  });

  it('lays out 500 nodes quickly', async () => {
    const n = 500;
    const dag = chain(n);
    await layoutDag(chain(3)); // load ELK
    const start = performance.now();
    const layout = await layoutDag(dag);
    const first = performance.now() - start;
    const again = performance.now();
    await layoutDag(dag);
    const second = performance.now() - again;
    console.log(`layout of a ${n}-node chain: ${first.toFixed(0)} ms, then ${second.toFixed(0)} ms warm`);
    const nodes = layout.boxes.filter(b => b.role === 'node');
    expect(nodes).toHaveLength(n);
    expect(nodes.every(b => Number.isFinite(b.x) && Number.isFinite(b.y) && b.width > 0)).toBe(true);
  });

  it('lays out a 500-node fan-out', async () => {
    const n = 500;
    const nodes: DagNode[] = Array.from({ length: n }, (_, i) => ({
      id: `n${i}`, path: `n${i}`, label: `t${i}`, entity: `t${i}`, kind: 'task', inputs: [],
      outputs: [{ name: 'o0', type: 'int' }]
    }));
    const dag: Dag = {
      version: 1, name: 'bench.fan', label: 'fan', kind: 'workflow', inputs: [], outputs: [], nodes,
      edges: [
        ...nodes.slice(1, n - 1).map(t => ({ source: 'n0', target: t.id, kind: 'data' as const, label: '' })),
        ...nodes.slice(1, n - 1).map(t => ({ source: t.id, target: `n${n - 1}`, kind: 'data' as const, label: '' }))
      ]
    };
    const start = performance.now();
    const layout = await layoutDag(dag);
    console.log(`layout of a ${n}-node fan-out: ${(performance.now() - start).toFixed(0)} ms`);
    expect(layout.boxes.filter(b => b.role === 'node')).toHaveLength(n);
  });
});
