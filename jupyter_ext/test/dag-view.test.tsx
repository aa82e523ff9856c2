import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { DagOutput } from '../src/dag/DagOutput';
import { DagView } from '../src/dag/DagView';
import * as layout from '../src/dag/layout';
import type { Dag } from '../src/dag/types';
import bothWays from './fixtures/dag-both_ways.json';
import doubledThenSquared from './fixtures/dag-doubled_then_squared.json';
import predict from './fixtures/dag-predict.json';

// Count layouts while keeping the real one.
vi.mock('../src/dag/layout', async importOriginal => {
  const real = await importOriginal<typeof import('../src/dag/layout')>();
  return { ...real, layoutDag: vi.fn(real.layoutDag) };
});
const layoutDag = vi.mocked(layout.layoutDag);

const bundle = (json: unknown) => json as Dag;

// The first ELK layout in a process compiles a lot of code: take that time here.
beforeAll(async () => {
  await layoutDag(bundle(predict));
}, 20_000);
beforeEach(() => {
  layoutDag.mockClear();
});
afterEach(cleanup);

describe('DagView', { timeout: 20_000 }, () => {
  it('says it is laying out, then draws named, focusable nodes', async () => {
    render(<DagView dag={bundle(predict)} />);
    expect(screen.getByRole('status').textContent).toBe('Laying out 2 nodes…');
    const graph = await screen.findByRole('group', { name: 'DAG of workflow predict' }, { timeout: 5000 });
    const fit = within(graph).getByRole('button', { name: 'node fit_line (workflow)' });
    expect(fit.getAttribute('tabindex')).toBe('0');
    within(graph).getByRole('button', { name: 'node point_on_line (task)' });
    within(graph).getByRole('button', { name: 'Expand fit_line' });
    screen.getByRole('button', { name: 'Fit' });
    // the legend names the kinds present
    const legend = screen.getByRole('list', { name: 'Legend' });
    expect(within(legend).getAllByRole('listitem').map(li => li.textContent)).toEqual(['task', 'workflow']);
    // inputs and outputs are drawn as ports
    expect(graph.querySelectorAll('.plait-DagPort-input')).toHaveLength(3);
    expect(graph.querySelectorAll('.plait-DagPort-output')).toHaveLength(1);
    expect(graph.querySelectorAll('.plait-DagEdge')).toHaveLength(5);
  });

  it('selects a node by click, Enter and Space', async () => {
    const onSelectNode = vi.fn();
    render(<DagView dag={bundle(predict)} onSelectNode={onSelectNode} selected="n1" />);
    const task = await screen.findByRole('button', { name: 'node point_on_line (task)' });
    expect(task.getAttribute('aria-current')).toBe('true');
    fireEvent.click(screen.getByRole('button', { name: 'node fit_line (workflow)' }));
    fireEvent.keyDown(task, { key: 'Enter' });
    fireEvent.keyDown(task, { key: ' ' });
    expect(onSelectNode.mock.calls).toEqual([['n0'], ['n1'], ['n1']]);
  });

  it('recolours on phase changes without a new layout', async () => {
    const dag = bundle(predict);
    const { rerender } = render(<DagView dag={dag} phases={{ n0: 'RUNNING' }} />);
    const fit = await screen.findByRole('button', { name: 'node fit_line (workflow), RUNNING' });
    expect(fit.closest('.plait-DagNode')!.classList.contains('plait-DagPhase-running')).toBe(true);
    // the kind is still shown
    expect(fit.closest('.plait-DagNode')!.classList.contains('plait-DagKind-workflow')).toBe(true);
    expect(fit.textContent).toContain('workflow · running');

    rerender(<DagView dag={dag} phases={{ n0: 'SUCCEEDED', n1: 'FAILED' }} />);
    const done = screen.getByRole('button', { name: 'node fit_line (workflow), SUCCEEDED' });
    expect(done).toBe(fit); // the same element, recoloured
    expect(done.closest('.plait-DagNode')!.classList.contains('plait-DagPhase-succeeded')).toBe(true);
    const failed = screen.getByRole('button', { name: 'node point_on_line (task), FAILED' });
    expect(failed.closest('.plait-DagNode')!.classList.contains('plait-DagPhase-failed')).toBe(true);
    expect(within(screen.getByRole('list', { name: 'Legend' })).getByText('failed')).toBeTruthy();

    // an equal bundle rebuilt by the caller does not count as a new DAG either
    rerender(<DagView dag={structuredClone(dag)} phases={{ n0: 'SUCCEEDED', n1: 'SUCCEEDED' }} />);
    screen.getByRole('button', { name: 'node point_on_line (task), SUCCEEDED' });
    expect(layoutDag).toHaveBeenCalledTimes(1);
  });

  it('expands and collapses a subworkflow in place', async () => {
    render(<DagView dag={bundle(bothWays)} />);
    // the subworkflow and the launch plan both call pair_sum
    const toggles = await screen.findAllByRole('button', { name: 'Expand pair_sum' });
    expect(toggles.map(t => t.closest('.plait-DagNode')!.getAttribute('data-path'))).toEqual(['n0', 'n1']);
    const expand = toggles[0];
    expect(expand.getAttribute('aria-expanded')).toBe('false');
    expect(screen.queryByRole('button', { name: 'node add (task)' })).toBeNull();

    fireEvent.click(expand);
    const add = await screen.findByRole('button', { name: 'node add (task)' });
    expect(add.closest('.plait-DagNode')!.getAttribute('data-path')).toBe('n0-n0');
    const collapse = screen.getByRole('button', { name: 'Collapse pair_sum' });
    expect(collapse.getAttribute('aria-expanded')).toBe('true');
    expect(layoutDag).toHaveBeenCalledTimes(2);
    expect([...layoutDag.mock.calls[1][1]!]).toEqual(['n0']);

    fireEvent.keyDown(collapse, { key: 'Enter' });
    await act(async () => {
      await layoutDag.mock.results[2].value;
    });
    expect(screen.queryByRole('button', { name: 'node add (task)' })).toBeNull();
    expect(screen.getAllByRole('button', { name: 'Expand pair_sum' })).toHaveLength(2);
  });

  it('expands a branch into its cases', async () => {
    render(<DagView dag={bundle(doubledThenSquared)} initiallyExpanded={['n3']} />);
    await screen.findByRole('button', { name: 'Collapse second' });
    screen.getByRole('button', { name: 'node square (task)' });
    screen.getByRole('button', { name: 'node double (task)' });
    const cases = document.querySelectorAll('.plait-DagCase');
    expect([...cases].map(c => c.querySelector('text')!.textContent)).toEqual([
      'if output `o0` of `first` (node n0) > 5.0',
      'else'
    ]);
  });

  it('zooms with the buttons and fits again', async () => {
    render(<DagView dag={bundle(predict)} />);
    const graph = await screen.findByRole('group', { name: 'DAG of workflow predict' });
    const g = graph.querySelector(':scope > g')!;
    const fitted = g.getAttribute('transform');
    fireEvent.click(screen.getByRole('button', { name: 'Zoom in' }));
    expect(g.getAttribute('transform')).not.toBe(fitted);
    fireEvent.click(screen.getByRole('button', { name: 'Fit' }));
    expect(g.getAttribute('transform')).toBe(fitted);
  });
});

describe('DagOutput', { timeout: 20_000 }, () => {
  it('shows the interface of the node clicked', async () => {
    render(<DagOutput dag={bundle(predict)} />);
    fireEvent.click(await screen.findByRole('button', { name: 'node point_on_line (task)' }));
    const details = screen.getByRole('region', { name: 'Details of point_on_line' });
    expect(details.textContent).toContain('slope_value: float← fit_line.o0');
    expect(details.textContent).toContain('val: int← input val');
  });
});
