/**
 * The execution view as a daily user meets it: a failed run opens on the node
 * that failed, with a link from the error to its log; logs before large values,
 * which are shortened; timeline rows named by task; the graph refits after an
 * expand; long header values wrap at their separators; Escape and the arrow keys.
 */
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { PlaitClient, Transport } from '../src/api/client';
import type { Execution, LogChunk } from '../src/api/client';
import { DagView, fitView } from '../src/dag/DagView';
import { layoutDag } from '../src/dag/layout';
import type { Dag } from '../src/dag/types';
import { ExecutionView } from '../src/execution/ExecutionView';
import {
  failedNodePath,
  nodeTitle,
  nodeTree,
  NodeRun,
  pollTiming,
  revealPath,
  shortenText,
  wrapPoints
} from '../src/execution/model';
import { rowAfterKey } from '../src/execution/NodeTable';
import bothWays from './fixtures/dag-both_ways.json';

const T0 = Date.now() - 60_000;
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function makeExecution(extra: Partial<Execution> = {}): Execution {
  return {
    id: 'ex-1',
    project: 'default',
    domain: 'development',
    entity: { kind: 'workflow', name: 'flows.train', version: 'v7' },
    launch_plan: null,
    phase: 'SUCCEEDED',
    inputs: { epochs: { literal: 3 } },
    outputs: null,
    error: null,
    settings: {},
    parent_execution_id: null,
    parent_node_path: null,
    abort_requested: false,
    created_at: at(0),
    started_at: at(0),
    ended_at: at(9),
    duration_s: 9,
    ...extra
  };
}

function node(path: string, extra: Partial<NodeRun> = {}): NodeRun {
  return {
    path,
    parent_path: null,
    entity_name: `flows.${path}`,
    kind: 'task',
    phase: 'SUCCEEDED',
    inputs: null,
    outputs: null,
    error: null,
    created_at: at(0),
    started_at: at(0),
    ended_at: at(2),
    attempts: [],
    ...extra
  } as NodeRun;
}

const attempt = (phase: string) => ({
  number: 1, phase, error_kind: null, error: null, worker: 'tcp://w1', outputs: null,
  cpu_avg: null, cpu_peak: null, mem_avg: null, mem_peak: null, started_at: at(0), ended_at: at(2)
});

/** A run whose subworkflow n1 failed because its child n1-n0 did. */
function failedRun(): { execution: Execution; nodes: NodeRun[] } {
  const error = { kind: 'USER', type: 'ValueError', message: 'bad row 7', node: 'n1-n0' };
  return {
    execution: makeExecution({ phase: 'FAILED', error }),
    nodes: [
      node('n0', { entity_name: 'flows.load', attempts: [attempt('SUCCEEDED')] }),
      node('n1', { entity_name: 'flows.fit_all', kind: 'workflow', phase: 'FAILED', error }),
      node('n1-n0', { parent_path: 'n1', entity_name: 'flows.fit', phase: 'FAILED', error, attempts: [attempt('FAILED')] }),
      node('n2', { entity_name: 'flows.report', phase: 'SKIPPED', started_at: null, ended_at: null })
    ]
  };
}

/** A backend in memory for one execution. */
function fakeBackend(state: { execution: Execution; nodes: NodeRun[]; logs?: Record<string, string> }) {
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const transport: Transport = async (url, init) => {
    const parsed = new URL(url, 'http://plait/');
    const path = decodeURIComponent(parsed.pathname.slice(1));
    const id = state.execution.id;
    if ((init.method ?? 'GET') !== 'GET') {
      return json({ error: 'not_found', message: 'no such route' }, 404);
    }
    if (path === `executions/${id}`) {
      return json(state.execution);
    }
    if (path === `executions/${id}/nodes`) {
      return json({ execution_id: id, nodes: state.nodes });
    }
    const logs = path.match(/^executions\/[^/]+\/nodes\/([^/]+)\/logs$/);
    if (logs) {
      const text = state.logs?.[logs[1]] ?? '';
      const chunk: LogChunk = {
        execution_id: id, path: logs[1], attempt: 1, offset: 0, next_offset: text.length, text, complete: true
      };
      return json(chunk);
    }
    if (path === 'health') {
      return json({ status: 'ok', dask_dashboard: null });
    }
    return json({ error: 'not_found', message: `no route ${path}` }, 404);
  };
  return new PlaitClient(transport);
}

const saved = { ...pollTiming };
beforeEach(() => Object.assign(pollTiming, { interval: 20, max: 40 }));
afterEach(() => {
  cleanup();
  Object.assign(pollTiming, saved);
});

describe('the model behind it', () => {
  it('opens a failed run on the node its error names, else the innermost failed node', () => {
    const { execution, nodes } = failedRun();
    expect(failedNodePath(execution, nodes)).toBe('n1-n0');
    // An older backend's error without `node`: the failed child, not the subworkflow around it.
    expect(failedNodePath({ ...execution, error: { message: 'bad row 7' } }, nodes)).toBe('n1-n0');
    // A node the error names that is not (yet) among the nodes is not selected.
    expect(failedNodePath({ ...execution, error: { node: 'n9' } }, nodes)).toBe('n1-n0');
    expect(failedNodePath({ ...execution, phase: 'SUCCEEDED' }, nodes)).toBeNull();
    expect(failedNodePath({ ...execution, phase: 'ABORTED' }, nodes)).toBeNull();
  });

  it('opens the groups a node is in, and nothing else', () => {
    const items = Array.from({ length: 25 }, (_, i) => node(`n0-${i}`, { parent_path: 'n0' }));
    const rows = nodeTree([node('n0', { kind: 'map' }), ...items, node('n1')]);
    const none = new Set<string>();
    expect([...revealPath(rows, none, 'n0-24')]).toEqual(['n0']); // big groups start closed
    expect(revealPath(rows, none, 'n1')).toBe(none);
    const open = new Set(['n0']);
    expect(revealPath(rows, open, 'n0-3')).toBe(open);
  });

  it('names a node by the short name of its task, keeping a map batch range', () => {
    expect(nodeTitle({ path: 'n0', entity_name: 'pipeline.clean' })).toBe('clean');
    expect(nodeTitle({ path: 'n3-0', entity_name: 'pipeline.clean[0..9]' })).toBe('clean[0..9]');
    expect(nodeTitle({ path: 'n4', entity_name: null })).toBe('n4');
  });

  it('shortens long texts and says what it left out', () => {
    expect(shortenText('short')).toBeNull();
    const long = shortenText('x'.repeat(5000));
    expect(long?.head).toHaveLength(500);
    expect(long?.hidden).toBe('4,500 more characters');
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const cut = shortenText(lines);
    expect(cut?.head.split('\n')).toHaveLength(12);
    expect(cut?.hidden).toBe('88 more lines');
  });

  it('finds where names, versions and ids may wrap', () => {
    expect(wrapPoints('flows.train @ v7')).toEqual(['flows.', 'train @', ' v7']);
    expect(wrapPoints('a-b/c_d')).toEqual(['a-', 'b/', 'c_', 'd']);
    expect(wrapPoints('plain')).toEqual(['plain']);
    expect(wrapPoints('end.')).toEqual(['end.']);
  });

  it('moves between node rows with the arrow keys, Home and End; ← goes to the parent', () => {
    const rows = nodeTree([node('n0'), node('n1', { kind: 'workflow' }), node('n1-n0', { parent_path: 'n1' })]);
    expect(rowAfterKey(rows, 0, 'ArrowDown')).toBe(1);
    expect(rowAfterKey(rows, 2, 'ArrowDown')).toBe(2);
    expect(rowAfterKey(rows, 0, 'ArrowUp')).toBe(0);
    expect(rowAfterKey(rows, 1, 'End')).toBe(2);
    expect(rowAfterKey(rows, 2, 'Home')).toBe(0);
    expect(rowAfterKey(rows, 2, 'ArrowLeft')).toBe(1);
    expect(rowAfterKey(rows, 0, 'ArrowLeft')).toBeNull();
    expect(rowAfterKey(rows, 0, 'a')).toBeNull();
  });
});

describe('ExecutionView polish', () => {
  it('opens a failed execution on the failed node, and the banner links to its log', async () => {
    const run = failedRun();
    const client = fakeBackend({ ...run, logs: { 'n1-n0': 'reading rows\nValueError: bad row 7\n' } });
    render(<ExecutionView client={client} executionId="ex-1" />);
    const panel = await screen.findByRole('complementary', { name: 'Node n1-n0' });
    // the child that failed, not the subworkflow; its row is marked in the table
    const row = screen.getByRole('table', { name: 'Nodes' }).querySelector('[data-path="n1-n0"]')!;
    expect(row.getAttribute('aria-current')).toBe('true');
    // opened without the user asking: focus is not taken into the panel
    expect(panel.contains(document.activeElement)).toBe(false);

    const banner = screen.getByRole('region', { name: 'Execution ex-1' });
    const link = within(banner).getByRole('button', { name: 'Show log of n1-n0' });
    fireEvent.click(link);
    const log = within(panel).getByLabelText('Logs of n1-n0');
    await waitFor(() => expect(document.activeElement).toBe(log));
    await waitFor(() => expect(log.textContent).toContain('ValueError: bad row 7'));
  });

  it('opens the group a failed map item is in', async () => {
    const error = { kind: 'USER', message: 'item 23 failed', node: 'n0-23' };
    const items = Array.from({ length: 25 }, (_, i) =>
      node(`n0-${i}`, { parent_path: 'n0', entity_name: `flows.square[${i}..${i}]`, phase: i === 23 ? 'FAILED' : 'SUCCEEDED' })
    );
    const client = fakeBackend({
      execution: makeExecution({ phase: 'FAILED', error }),
      nodes: [node('n0', { kind: 'map', phase: 'FAILED' }), ...items]
    });
    render(<ExecutionView client={client} executionId="ex-1" />);
    await screen.findByRole('complementary', { name: 'Node n0-23' });
    const row = screen.getByRole('table', { name: 'Nodes' }).querySelector('[data-path="n0-23"]');
    expect(row?.getAttribute('aria-current')).toBe('true');
  });

  it('opens a succeeded execution with no node selected', async () => {
    const client = fakeBackend({ execution: makeExecution(), nodes: [node('n0')] });
    render(<ExecutionView client={client} executionId="ex-1" />);
    await screen.findByRole('table', { name: 'Nodes' });
    expect(screen.queryByRole('complementary')).toBeNull();
    expect(screen.queryByRole('button', { name: /^Show log of/ })).toBeNull();
  });

  it('shows the logs before the inputs, and long values shortened with Show all', async () => {
    const text = 'x'.repeat(3000);
    const many = Array.from({ length: 45 }, (_, i) => ({ literal: i }));
    const client = fakeBackend({
      execution: makeExecution(),
      nodes: [node('n0', { inputs: { text: { literal: text }, items: { collection: many } }, attempts: [attempt('SUCCEEDED')] })]
    });
    render(<ExecutionView client={client} executionId="ex-1" />);
    fireEvent.click(await screen.findByText('n0'));
    const panel = await screen.findByRole('complementary', { name: 'Node n0' });
    const logs = within(panel).getByLabelText('Logs of n0');
    const inputs = within(panel).getByRole('table', { name: 'Inputs of n0' });
    expect(logs.compareDocumentPosition(inputs) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();

    const textCell = within(inputs).getByRole('rowheader', { name: 'text' }).nextElementSibling as HTMLElement;
    expect(textCell.textContent).toContain('2,502 more characters'); // the JSON text has quotes
    expect(textCell.querySelector('pre')!.textContent).toHaveLength(501); // 500 and the ellipsis
    const showText = within(textCell).getByRole('button', { name: 'Show all of text' });
    expect(showText.textContent).toBe('Show all');
    fireEvent.click(showText);
    expect(textCell.querySelector('pre')!.textContent).toBe(`"${text}"`);
    expect(showText.getAttribute('aria-expanded')).toBe('true');
    fireEvent.click(within(textCell).getByRole('button', { name: 'Show less of text' }));
    expect(textCell.querySelector('pre')!.textContent).toHaveLength(501);

    const itemsCell = within(inputs).getByRole('rowheader', { name: 'items' }).nextElementSibling as HTMLElement;
    expect(itemsCell.querySelectorAll('li')).toHaveLength(20);
    expect(itemsCell.textContent).toContain('25 more items of 45');
    fireEvent.click(within(itemsCell).getByRole('button', { name: 'Show all of items' }));
    expect(itemsCell.querySelectorAll('li')).toHaveLength(45);
  });

  it('names timeline rows by task, with the node path beside', async () => {
    const client = fakeBackend({
      execution: makeExecution(),
      nodes: [node('n0', { entity_name: 'pipeline.clean' }), node('n1', { entity_name: 'pipeline.total' })]
    });
    render(<ExecutionView client={client} executionId="ex-1" />);
    await screen.findByRole('table', { name: 'Nodes' });
    fireEvent.click(screen.getByRole('tab', { name: 'Timeline' }));
    const labels = [...document.querySelectorAll('.plait-ExecutionView-timeline-bars .plait-ExecutionView-timeline-label')];
    expect(labels.map(l => l.textContent)).toEqual(['clean n0', 'total n1']);
    expect(labels[0].getAttribute('title')).toBe('clean (node n0)');
    expect(screen.getByRole('button', { name: 'clean (n0): SUCCEEDED, 2.0 s' })).toBeTruthy();
  });

  it('returns focus to the node row on Escape, and to the timeline bar from the timeline', async () => {
    const client = fakeBackend({ execution: makeExecution(), nodes: [node('n0'), node('n1')] });
    render(<ExecutionView client={client} executionId="ex-1" />);
    const table = await screen.findByRole('table', { name: 'Nodes' });
    const row = table.querySelector<HTMLElement>('[data-path="n1"]')!;
    row.focus();
    fireEvent.keyDown(row, { key: 'Enter' });
    const panel = await screen.findByRole('complementary', { name: 'Node n1' });
    expect(panel.contains(document.activeElement)).toBe(true);
    fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(screen.queryByRole('complementary')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(table.querySelector('[data-path="n1"]')));

    fireEvent.click(screen.getByRole('tab', { name: 'Timeline' }));
    const bar = screen.getByRole('button', { name: 'n0: SUCCEEDED, 2.0 s' }); // its task is called n0 too
    fireEvent.click(bar);
    await screen.findByRole('complementary', { name: 'Node n0' });
    fireEvent.click(screen.getByRole('button', { name: 'Close node panel' }));
    await waitFor(() => expect(document.activeElement).toBe(bar));
  });

  it('moves between node rows with the arrow keys and opens and closes groups', async () => {
    const client = fakeBackend({
      execution: makeExecution(),
      nodes: [node('n0'), node('n1', { kind: 'workflow' }), node('n1-n0', { parent_path: 'n1' })]
    });
    render(<ExecutionView client={client} executionId="ex-1" />);
    const table = await screen.findByRole('table', { name: 'Nodes' });
    const rowOf = (path: string) => table.querySelector<HTMLElement>(`[data-path="${path}"]`);
    rowOf('n0')!.focus();
    fireEvent.keyDown(rowOf('n0')!, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(rowOf('n1'));
    fireEvent.keyDown(rowOf('n1')!, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(rowOf('n1-n0'));
    fireEvent.keyDown(rowOf('n1-n0')!, { key: 'ArrowLeft' });
    expect(document.activeElement).toBe(rowOf('n1'));
    fireEvent.keyDown(rowOf('n1')!, { key: 'ArrowLeft' }); // closes the group
    expect(rowOf('n1-n0')).toBeNull();
    fireEvent.keyDown(rowOf('n1')!, { key: 'ArrowRight' });
    expect(rowOf('n1-n0')).not.toBeNull();
    fireEvent.keyDown(rowOf('n1')!, { key: 'Home' });
    expect(document.activeElement).toBe(rowOf('n0'));
    expect(screen.queryByRole('complementary')).toBeNull(); // moving does not open panels
  });

  it('lets long header values wrap after their separators', async () => {
    const client = fakeBackend({
      execution: makeExecution({
        entity: { kind: 'workflow', name: 'examples.very_long_package.pipelines.train', version: '2024-06-01-abcdef' }
      }),
      nodes: []
    });
    render(<ExecutionView client={client} executionId="ex-1" />);
    const header = await screen.findByRole('region', { name: 'Execution ex-1' });
    const facts = header.querySelector('.plait-ExecutionView-facts dd')!;
    expect(facts.textContent).toBe('examples.very_long_package.pipelines.train @ 2024-06-01-abcdef');
    expect(facts.querySelectorAll('wbr').length).toBe(9);
  });
});

describe('DagView refit', { timeout: 20_000 }, () => {
  it('fits the new layout after a subworkflow expands, even after a zoom', async () => {
    const dag = bothWays as unknown as Dag;
    render(<DagView dag={dag} />);
    const graph = await screen.findByRole('group', { name: /^DAG of / }, { timeout: 10_000 });
    const g = graph.querySelector(':scope > g')!;
    fireEvent.click(screen.getByRole('button', { name: 'Zoom in' }));
    const zoomed = g.getAttribute('transform');
    fireEvent.click(screen.getAllByRole('button', { name: 'Expand pair_sum' })[0]);
    await screen.findByRole('button', { name: 'node add (task)' }, { timeout: 10_000 });
    // jsdom has no layout: the view is 800 × 400 (DagView's fallback size)
    const expanded = await layoutDag(dag, new Set(['n0']));
    const fit = fitView(expanded, 800, 400);
    await act(async () => undefined);
    expect(g.getAttribute('transform')).toBe(`translate(${fit.x},${fit.y}) scale(${fit.k})`);
    expect(g.getAttribute('transform')).not.toBe(zoomed);
  });
});
