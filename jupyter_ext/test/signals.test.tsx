/**
 * Waiting gates in the execution view: the model (a signal's field, reading a
 * value, the banner's words, the backend's refusals), the form (typed value,
 * Approve / Reject), and the view's banner against a backend in memory.
 */
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ApiError, PlaitClient, Transport } from '../src/api/client';
import type { Execution } from '../src/api/client';
import { ExecutionView } from '../src/execution/ExecutionView';
import { NodeRun, pollTiming } from '../src/execution/model';
import { SignalForm } from '../src/execution/SignalForm';
import {
  readSignal,
  refusal,
  Signal,
  signalField,
  timeLeft,
  waitingSignals,
  waitingText
} from '../src/execution/signals';

const NOW = Date.parse('2026-01-01T10:00:00Z');
const inMinutes = (m: number, from = NOW) => new Date(from + m * 60_000).toISOString();

function signal(extra: Partial<Signal> = {}): Signal {
  return {
    name: 'title',
    node_path: 'n1',
    gate: 'signal',
    type: { kind: 'string' },
    type_name: 'str',
    value: null,
    is_set: false,
    created_at: inMinutes(0),
    timeout_at: inMinutes(9.5),
    set_at: null,
    ...extra
  };
}

function node(path: string, phase: NodeRun['phase'], extra: Partial<NodeRun> = {}): NodeRun {
  return {
    path,
    parent_path: null,
    entity_name: path === 'n1' ? 'signal `title`' : 'gates.draft',
    kind: path === 'n1' ? 'gate' : 'task',
    phase,
    inputs: {},
    outputs: null,
    error: null,
    created_at: inMinutes(0),
    started_at: inMinutes(0),
    ended_at: null,
    attempts: [],
    ...extra
  };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

interface Posted {
  path: string;
  body: unknown;
}

/** A transport that answers a signal's POST with `answer(body)` and records what was posted. */
function postClient(answer: (body: { value: unknown }) => Response = () => json(signal({ is_set: true }))) {
  const posted: Posted[] = [];
  const transport: Transport = async (url, init) => {
    const body = JSON.parse(String(init.body));
    posted.push({ path: decodeURIComponent(url), body });
    return answer(body);
  };
  return { client: new PlaitClient(transport), posted };
}

afterEach(() => cleanup());

describe('signals model', () => {
  it('gives a signal the launch form field of its type', () => {
    expect(signalField(signal())).toMatchObject({ name: 'title', kind: 'text', typeName: 'str', required: true });
    expect(signalField(signal({ name: 'count', type: { kind: 'integer' } }))).toMatchObject({ kind: 'integer' });
    expect(signalField(signal({ name: 'ok', type: { kind: 'boolean' } }))).toMatchObject({ kind: 'checkbox', initial: 'false' });
    const list = signalField(signal({ name: 'ids', type: { kind: 'list', of: { kind: 'integer' } } }));
    expect(list).toMatchObject({ kind: 'json', typeName: 'list[int]' });
  });

  it('reads a value against the type before it is sent, as the launch form says what is wrong', () => {
    const count = signalField(signal({ name: 'count', type: { kind: 'integer' } }));
    expect(readSignal(count, ' 12 ')).toEqual({ value: 12 });
    expect(readSignal(count, 'ten')).toEqual({ error: 'count expects int: "ten" is not an integer' });
    expect(readSignal(count, '')).toEqual({ error: 'count expects int: no value was given' });
    expect(readSignal(signalField(signal()), 'Q3 report')).toEqual({ value: 'Q3 report' });
    const ids = signalField(signal({ name: 'ids', type: { kind: 'list', of: { kind: 'integer' } } }));
    expect(readSignal(ids, '[1, 2]')).toEqual({ value: [1, 2] });
    expect(readSignal(ids, '[1, "a"]')).toEqual({ error: 'ids expects list[int]: item 1 is "a", not an integer' });
  });

  it('lists the signals still waiting: not set, their node WAITING, in node order', () => {
    const nodes = [node('n0', 'SUCCEEDED'), node('n1', 'WAITING'), node('n2', 'WAITING'), node('n3', 'TIMED_OUT')];
    const all = [
      signal({ name: 'late', node_path: 'n2' }),
      signal({ name: 'title', node_path: 'n1' }),
      signal({ name: 'given', node_path: 'n2', is_set: true, value: 'x' }),
      signal({ name: 'gone', node_path: 'n3' })
    ];
    expect(waitingSignals(all, nodes).map(s => s.name)).toEqual(['title', 'late']);
  });

  it('says what a gate waits for and how long it has left', () => {
    expect(waitingText(signal(), NOW)).toBe('Waiting for input: title (str), times out in 9 min');
    expect(waitingText(signal({ gate: 'approve', name: 'review', type_name: 'bool' }), NOW)).toBe(
      'Waiting for approval: review, times out in 9 min'
    );
    expect(waitingText(signal({ timeout_at: null }), NOW)).toBe('Waiting for input: title (str), no time limit');
    expect(waitingText(signal({ timeout_at: inMinutes(-1) }), NOW)).toBe('Waiting for input: title (str), times out now');
    expect(timeLeft(inMinutes(0.75), NOW)).toBe('45 s');
    expect(timeLeft(inMinutes(125), NOW)).toBe('2 h 5 min');
    expect(timeLeft(inMinutes(60 * 24 * 3 + 4 * 60), NOW)).toBe('3 d 4 h');
  });

  it('shows a refused value by the field, other refusals for the form', () => {
    const wrongType = new ApiError(422, { error: 'invalid', message: 'signal `count` expects int, got str', field: 'value' }, 'POST');
    expect(refusal(wrongType)).toEqual({ field: 'signal `count` expects int, got str' });
    const ended = new ApiError(422, { error: 'invalid', message: 'execution `e` has ended', field: 'name' }, 'POST');
    expect(refusal(ended)).toEqual({ form: 'execution `e` has ended' });
    const twice = new ApiError(409, { error: 'conflict', message: 'signal `title` of execution `e` was already set' }, 'POST');
    expect(refusal(twice).form).toMatch(/^signal `title` of execution `e` was already set: someone gave it a value first/);
    expect(refusal(new Error('network down'))).toEqual({ form: 'network down' });
  });
});

describe('SignalForm', () => {
  it('sends a typed value once it reads as the signal type, and says so', async () => {
    const { client, posted } = postClient();
    const onSent = vi.fn();
    render(<SignalForm client={client} executionId="ex-1" signal={signal({ name: 'count', type: { kind: 'integer' }, type_name: 'int' })} onSent={onSent} />);
    const form = screen.getByRole('form', { name: 'Set count' });
    const box = within(form).getByRole('textbox', { name: 'count' });

    fireEvent.change(box, { target: { value: 'ten' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Set count' }));
    await waitFor(() => expect(form.textContent).toContain('count expects int: "ten" is not an integer'));
    expect(box.getAttribute('aria-invalid')).toBe('true');
    expect(posted).toEqual([]);

    fireEvent.change(box, { target: { value: '12' } });
    expect(box.getAttribute('aria-invalid')).toBeNull(); // typing clears the error
    fireEvent.click(within(form).getByRole('button', { name: 'Set count' }));
    await screen.findByText('count was set; the node goes on shortly.');
    expect(posted).toEqual([{ path: 'executions/ex-1/signals/count', body: { value: 12 } }]);
    expect(onSent).toHaveBeenCalledTimes(1);
  });

  it("shows the backend's 422 by the field, and keeps the form", async () => {
    const { client } = postClient(() =>
      json({ error: 'invalid_field', message: 'signal `when` expects datetime, got str: not a date', field: 'value' }, 422)
    );
    const onSent = vi.fn();
    render(<SignalForm client={client} executionId="ex-1" signal={signal({ name: 'when', type: { kind: 'string' } })} onSent={onSent} />);
    const box = screen.getByRole('textbox', { name: 'when' });
    fireEvent.change(box, { target: { value: 'soon' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set when' }));
    await waitFor(() => expect(box.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByRole('form', { name: 'Set when' }).textContent).toContain('signal `when` expects datetime, got str');
    expect(screen.queryByRole('alert')).toBeNull(); // by the field, not as a form error
    expect(onSent).not.toHaveBeenCalled();
  });

  it('approves at once, and rejects only once confirmed', async () => {
    const review = signal({ name: 'review', gate: 'approve', type: { kind: 'boolean' }, type_name: 'bool' });
    const { client, posted } = postClient();
    const onSent = vi.fn();
    const { unmount } = render(<SignalForm client={client} executionId="ex-1" signal={review} onSent={onSent} />);
    const group = screen.getByRole('group', { name: 'Approve review' });

    fireEvent.click(within(group).getByRole('button', { name: 'Reject' }));
    const question = within(group).getByRole('alertdialog', { name: 'Reject review?' });
    expect(question.textContent).toContain('the nodes after it do not run');
    expect(document.activeElement?.textContent).toBe('Confirm reject');
    fireEvent.click(within(question).getByRole('button', { name: 'Cancel' }));
    expect(within(group).queryByRole('alertdialog')).toBeNull();
    expect(posted).toEqual([]);

    fireEvent.click(within(group).getByRole('button', { name: 'Reject' }));
    fireEvent.click(within(group).getByRole('button', { name: 'Confirm reject' }));
    await screen.findByText('review was rejected; the node goes on shortly.');
    expect(posted).toEqual([{ path: 'executions/ex-1/signals/review', body: { value: false } }]);
    unmount();

    render(<SignalForm client={client} executionId="ex-1" signal={review} onSent={onSent} />);
    fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
    await screen.findByText('review was approved; the node goes on shortly.');
    expect(posted[1]).toEqual({ path: 'executions/ex-1/signals/review', body: { value: true } });
    expect(onSent).toHaveBeenCalledTimes(2);
  });
});

// ------------------------------------------------------------------ the view

function execution(extra: Partial<Execution> = {}): Execution {
  return {
    id: 'ex-1',
    project: 'default',
    domain: 'development',
    entity: { kind: 'task', name: 'gates.titled', version: 'v1' },
    launch_plan: null,
    phase: 'RUNNING',
    inputs: {},
    outputs: null,
    error: null,
    settings: {},
    parent_execution_id: null,
    parent_node_path: null,
    abort_requested: false,
    created_at: inMinutes(0, Date.now()),
    started_at: inMinutes(0, Date.now()),
    ended_at: null,
    duration_s: null,
    ...extra
  } as Execution;
}

/** A backend whose gate n1 waits for `title` until it is set; then n1 succeeds and so does the execution. */
function gateBackend() {
  const calls: string[] = [];
  const state = {
    execution: execution(),
    nodes: [node('n0', 'SUCCEEDED'), node('n1', 'WAITING')],
    signals: [signal({ timeout_at: inMinutes(9.5, Date.now()) })]
  };
  const transport: Transport = async (url, init) => {
    const path = decodeURIComponent(new URL(url, 'http://plait/').pathname.slice(1));
    const method = init.method ?? 'GET';
    calls.push(`${method} ${path}`);
    if (method === 'GET' && path === 'executions/ex-1') {
      return json(state.execution);
    }
    if (method === 'GET' && path === 'executions/ex-1/nodes') {
      return json({ execution_id: 'ex-1', nodes: state.nodes });
    }
    if (method === 'GET' && path === 'executions/ex-1/signals') {
      return json({ items: state.signals });
    }
    if (method === 'POST' && path === 'executions/ex-1/signals/title') {
      const value = JSON.parse(String(init.body)).value;
      state.signals = [{ ...state.signals[0], value, is_set: true }];
      state.nodes = [node('n0', 'SUCCEEDED'), node('n1', 'SUCCEEDED', { outputs: { o0: { literal: value } } })];
      state.execution = execution({ phase: 'SUCCEEDED', outputs: { o0: { literal: `${value}: a draft` } } });
      return json(state.signals[0]);
    }
    return json({ error: 'not_found', message: `no route ${method} ${path}` }, 404);
  };
  return { client: new PlaitClient(transport), calls, state };
}

describe('ExecutionView with a waiting gate', () => {
  const saved = { ...pollTiming };
  beforeEach(() => Object.assign(pollTiming, { interval: 20, max: 40 }));
  afterEach(() => Object.assign(pollTiming, saved));

  it('shows the banner with its form, sends the value, and follows the node on', async () => {
    const { client, calls } = gateBackend();
    render(<ExecutionView client={client} executionId="ex-1" />);
    const banner = await screen.findByRole('region', { name: 'Waiting gates' });
    expect(banner.textContent).toContain('Waiting for input: title (str), times out in 9 min');
    expect(within(screen.getByRole('table', { name: 'Nodes' })).getByText('WAITING').className).toContain(
      'plait-phase-waiting'
    );

    // The node's panel has the same form.
    fireEvent.click(within(banner).getByRole('button', { name: 'node n1' }));
    const panel = await screen.findByRole('complementary', { name: 'Node n1' });
    expect(within(panel).getByRole('form', { name: 'Set title' })).toBeTruthy();
    expect(panel.textContent).not.toMatch(/Logs|Resource use/); // a gate runs on no worker

    fireEvent.change(within(banner).getByRole('textbox', { name: 'title' }), { target: { value: 'Q3' } });
    await act(async () => {
      fireEvent.click(within(banner).getByRole('button', { name: 'Set title' }));
    });
    await waitFor(() =>
      expect(screen.getByRole('status', { name: 'Execution phase' }).textContent).toBe('SUCCEEDED')
    );
    expect(screen.queryByRole('region', { name: 'Waiting gates' })).toBeNull();
    expect(within(panel).queryByRole('form')).toBeNull();
    expect(calls).toContain('POST executions/ex-1/signals/title');
  });

  it('reads no signals while no node waits', async () => {
    const { client, calls, state } = gateBackend();
    state.nodes = [node('n0', 'RUNNING')];
    render(<ExecutionView client={client} executionId="ex-1" />);
    await screen.findByRole('region', { name: 'Execution ex-1' });
    await waitFor(() => expect(calls.filter(c => c.endsWith('/nodes')).length).toBeGreaterThan(1));
    expect(calls.filter(c => c.includes('signals'))).toEqual([]);
    expect(screen.queryByRole('region', { name: 'Waiting gates' })).toBeNull();
  });
});
