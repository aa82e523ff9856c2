import * as React from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';

import { Entity, Execution, PlaitClient, Transport } from '../src/api/client';
import { LaunchForm, LaunchTarget } from '../src/launch/LaunchForm';

afterEach(cleanup);

const WF_INPUTS = {
  a: { type: { kind: 'integer' }, required: true },
  b: { type: { kind: 'integer' }, required: false, default: 2 },
  name: { type: { kind: 'string' }, required: false, default: 'x' }
};

function entity(kind: Entity['kind'], name: string, spec: Record<string, unknown>, version = 'v1'): Entity {
  return {
    archived: false,
    bundle_digest: null,
    created_at: '2024-05-01T12:00:00Z',
    description: kind === 'workflow' ? 'Adds things up.' : '',
    digest: 'd'.repeat(64),
    domain: 'development',
    kind,
    name,
    project: 'default',
    spec: { kind, name, version, ...spec },
    version
  };
}

function plan(name: string, workflow: string, extra: Record<string, unknown> = {}): Entity {
  return entity('launch_plan', name, {
    workflow,
    interface: { inputs: WF_INPUTS, outputs: {} },
    default_inputs: {},
    fixed_inputs: {},
    labels: null,
    max_parallelism: null,
    overwrite_cache: null,
    ...extra
  });
}

const ENTITIES: Record<string, Entity> = {
  'workflows/kinds.wf': entity('workflow', 'kinds.wf', { interface: { inputs: WF_INPUTS, outputs: {} }, nodes: [] }),
  'launch_plans/kinds.wf': plan('kinds.wf', 'kinds.wf'),
  'launch_plans/wf_fixed': plan('wf_fixed', 'kinds.wf', {
    default_inputs: { b: 7 },
    fixed_inputs: { a: 1 },
    labels: { values: { team: 'ml' } },
    max_parallelism: 3
  }),
  'launch_plans/other': plan('other', 'other.wf'),
  'tasks/kinds': entity('task', 'kinds', {
    interface: {
      inputs: {
        flag: { type: { kind: 'boolean' }, required: true },
        color: { type: { kind: 'enum', name: 'm.Color', values: ['red', 'green'] }, required: false, default: 'green' },
        xs: { type: { kind: 'list', of: { kind: 'integer' } }, required: true },
        when: { type: { kind: 'datetime' }, required: true },
        maybe: { type: { kind: 'optional', of: { kind: 'float' } }, required: true },
        data: { type: { kind: 'file', format: 'csv' }, required: true }
      },
      outputs: {}
    }
  })
};

const EXECUTION = { id: 'run-1', phase: 'QUEUED' } as unknown as Execution;

interface Call {
  method: string;
  url: string;
  body?: any;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** A fake backend: entities by route; `post` answers `POST executions`. */
function setup(target: LaunchTarget, post: (body: any) => Response = () => json(201, EXECUTION)) {
  const calls: Call[] = [];
  const transport: Transport = async (url, init) => {
    const [path] = url.split('?');
    const call: Call = { method: init.method ?? 'GET', url };
    calls.push(call);
    if (call.method === 'POST' && path === 'executions') {
      call.body = JSON.parse(String(init.body));
      return post(call.body);
    }
    if (path === 'launch_plans') {
      const workflow = new URLSearchParams(url.split('?')[1]).get('workflow');
      const items = ['kinds.wf', 'wf_fixed', 'other']
        .map(n => ENTITIES[`launch_plans/${n}`])
        .filter(lp => !workflow || (lp.spec as { workflow?: string }).workflow === workflow);
      return json(200, { items, limit: 500, offset: 0, next_offset: null });
    }
    const found = ENTITIES[decodeURIComponent(path)];
    return found ? json(200, found) : json(404, { error: 'not_found', message: `no ${path}` });
  };
  const onLaunched = vi.fn();
  const onCancel = vi.fn();
  render(<LaunchForm client={new PlaitClient(transport)} target={target} onLaunched={onLaunched} onCancel={onCancel} />);
  const posts = () => calls.filter(c => c.method === 'POST');
  return { calls, posts, onLaunched, onCancel };
}

/** The accessible description: the text of the elements aria-describedby names. */
function description(el: HTMLElement): string {
  return (el.getAttribute('aria-describedby') ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map(id => document.getElementById(id)?.textContent ?? '')
    .join(' ');
}

const WORKFLOW: LaunchTarget = { kind: 'workflow', name: 'kinds.wf' };

describe('LaunchForm', () => {
  it('renders the fields of the spec, with the default launch plan chosen', async () => {
    const { calls } = setup(WORKFLOW);
    const a = await screen.findByRole('textbox', { name: 'a' });
    expect(screen.getByRole('heading', { name: 'Launch kinds.wf' })).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Inputs' })).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Settings' })).toBeTruthy();
    expect(description(a)).toBe('int');
    expect(a.getAttribute('aria-required')).toBe('true');
    expect((a as HTMLInputElement).value).toBe('');
    const b = screen.getByRole('textbox', { name: 'b' }) as HTMLInputElement;
    expect(b.value).toBe('2');
    expect(b.getAttribute('aria-required')).toBeNull();
    expect((screen.getByRole('textbox', { name: 'name' }) as HTMLInputElement).value).toBe('x');

    const plans = screen.getByRole('combobox', { name: 'Launch plan' }) as HTMLSelectElement;
    expect(plans.value).toBe('kinds.wf');
    expect(within(plans).getAllByRole('option').map(o => o.textContent)).toEqual(['kinds.wf (default)', 'wf_fixed']);

    for (const name of ['Execution name', 'Max parallelism']) {
      expect(screen.getByRole('textbox', { name })).toBeTruthy();
    }
    expect(screen.getByRole('checkbox', { name: 'Overwrite cached outputs' })).toBeTruthy();
    expect(screen.getByRole('group', { name: 'Environment variables' })).toBeTruthy();
    expect(screen.getByRole('group', { name: 'Labels' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Launch' }).getAttribute('type')).toBe('submit');
    expect(screen.getByRole('button', { name: 'Cancel' }).getAttribute('type')).toBe('button');
    expect(calls.map(c => c.url)).toContain('workflows/kinds.wf');
    // only the workflow's own plans are listed, so only theirs are read
    expect(calls.some(c => c.url.startsWith('launch_plans?') && c.url.includes('workflow=kinds.wf'))).toBe(true);
    expect(calls.map(c => c.url.split('?')[0])).not.toContain('launch_plans/other');
  });

  it('gives each type kind its control', async () => {
    setup({ kind: 'task', name: 'kinds' });
    expect(await screen.findByRole('checkbox', { name: 'flag' })).toBeTruthy();
    const color = screen.getByRole('combobox', { name: 'color' }) as HTMLSelectElement;
    expect(color.value).toBe('"green"');
    const xs = screen.getByRole('textbox', { name: 'xs' });
    expect(xs.tagName).toBe('TEXTAREA');
    expect(description(xs)).toBe('list[int] JSON, e.g. [...]');
    expect(description(screen.getByRole('textbox', { name: 'when' }))).toMatch(/^datetime ISO 8601/);
    expect((screen.getByRole('textbox', { name: 'maybe' }) as HTMLInputElement).placeholder).toBe('None');
    expect(description(screen.getByRole('textbox', { name: 'data' }))).toBe("FlyteFile['csv']");
    expect(screen.queryByRole('combobox', { name: 'Launch plan' })).toBeNull();
  });

  it('shows a field error on blur and on submit, without calling the server', async () => {
    const { posts } = setup(WORKFLOW);
    const a = await screen.findByRole('textbox', { name: 'a' });
    fireEvent.change(a, { target: { value: 'abc' } });
    fireEvent.blur(a);
    const message = 'a expects int: "abc" is not an integer';
    expect(screen.getByText(message)).toBeTruthy();
    expect(a.getAttribute('aria-invalid')).toBe('true');
    expect(description(a)).toBe(`int ${message}`);

    fireEvent.change(screen.getByRole('textbox', { name: 'Execution name' }), { target: { value: 'Bad Name' } });
    fireEvent.click(screen.getByRole('button', { name: 'Launch' }));
    expect(screen.getByText(/^Execution name "Bad Name" is not valid/)).toBeTruthy();
    expect(document.activeElement).toBe(a);
    expect(posts()).toEqual([]);
    expect(screen.queryByRole('alert')).toBeNull();

    // Fixing the value clears its message as one types.
    fireEvent.change(a, { target: { value: '12' } });
    expect(screen.queryByText(message)).toBeNull();
    expect(a.getAttribute('aria-invalid')).toBeNull();
  });

  it('waits for the click to finish before showing a blur message, when focus goes to a button', async () => {
    setup(WORKFLOW);
    const a = await screen.findByRole('textbox', { name: 'a' });
    fireEvent.change(a, { target: { value: 'abc' } });
    fireEvent.blur(a, { relatedTarget: screen.getByRole('button', { name: 'Add label' }) });
    const message = 'a expects int: "abc" is not an integer';
    expect(screen.queryByText(message)).toBeNull(); // the button must not move under the pointer
    fireEvent.pointerUp(document);
    expect(await screen.findByText(message)).toBeTruthy();
  });

  it("maps a server's 422 back to the field", async () => {
    const message = 'input `a` of `kinds.wf`: must be positive';
    const { posts, onLaunched } = setup(WORKFLOW, () =>
      json(422, {
        error: 'invalid_input',
        message,
        input: 'a',
        problems: [{ input: 'a', expected: 'int', found: 'int', message }]
      })
    );
    const a = await screen.findByRole('textbox', { name: 'a' });
    fireEvent.change(a, { target: { value: '-1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Launch' }));
    await screen.findByText(message);
    expect(a.getAttribute('aria-invalid')).toBe('true');
    expect(description(a)).toContain(message);
    expect(screen.queryByRole('alert')).toBeNull();
    expect(posts()).toHaveLength(1);
    expect(onLaunched).not.toHaveBeenCalled();
  });

  it('launches the chosen launch plan and calls onLaunched', async () => {
    const { posts, onLaunched } = setup(WORKFLOW);
    fireEvent.change(await screen.findByRole('textbox', { name: 'a' }), { target: { value: '5' } });
    fireEvent.change(screen.getByRole('textbox', { name: 'name' }), { target: { value: 'y' } });
    fireEvent.change(screen.getByRole('textbox', { name: 'Execution name' }), { target: { value: 'run-1' } });
    fireEvent.click(screen.getByRole('checkbox', { name: 'Overwrite cached outputs' }));
    fireEvent.change(screen.getByRole('textbox', { name: 'Max parallelism' }), { target: { value: '8' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add environment variable' }));
    fireEvent.change(screen.getByRole('textbox', { name: 'Environment variable 1 name' }), { target: { value: 'DEBUG' } });
    fireEvent.change(screen.getByRole('textbox', { name: 'Environment variable 1 value' }), { target: { value: '1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add label' }));
    fireEvent.change(screen.getByRole('textbox', { name: 'Label 1 key' }), { target: { value: 'team' } });
    fireEvent.change(screen.getByRole('textbox', { name: 'Label 1 value' }), { target: { value: 'ml' } });
    fireEvent.click(screen.getByRole('button', { name: 'Launch' }));

    await waitFor(() => expect(onLaunched).toHaveBeenCalledWith(EXECUTION));
    expect(posts().map(p => p.body)).toEqual([
      {
        kind: 'launch_plan',
        name: 'kinds.wf',
        version: 'v1',
        project: 'default',
        domain: 'development',
        inputs: { a: 5, name: 'y' },
        settings: { overwrite_cache: true, name: 'run-1', max_parallelism: 8, envs: { DEBUG: '1' }, labels: { team: 'ml' } }
      }
    ]);
  });

  it("locks a launch plan's fixed inputs and does not send them", async () => {
    const { posts, onLaunched } = setup(WORKFLOW);
    fireEvent.change(await screen.findByRole('combobox', { name: 'Launch plan' }), { target: { value: 'wf_fixed' } });
    const a = screen.getByRole('textbox', { name: 'a' }) as HTMLInputElement;
    expect(a.readOnly).toBe(true);
    expect(a.value).toBe('1');
    expect(description(a)).toBe('int fixed by launch plan wf_fixed');
    const b = screen.getByRole('textbox', { name: 'b' }) as HTMLInputElement;
    expect(b.value).toBe('7');
    expect(description(b)).toBe('int default from launch plan wf_fixed');
    expect((screen.getByRole('textbox', { name: 'Max parallelism' }) as HTMLInputElement).placeholder).toBe('3');
    expect(screen.getByText('Launch plan wf_fixed adds team=ml')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Launch' }));
    await waitFor(() => expect(onLaunched).toHaveBeenCalled());
    expect(posts()[0].body).toMatchObject({ kind: 'launch_plan', name: 'wf_fixed', inputs: {} });
  });

  it('keeps what the user typed when the launch plan changes', async () => {
    setup(WORKFLOW);
    fireEvent.change(await screen.findByRole('textbox', { name: 'name' }), { target: { value: 'mine' } });
    fireEvent.change(screen.getByRole('combobox', { name: 'Launch plan' }), { target: { value: 'wf_fixed' } });
    expect((screen.getByRole('textbox', { name: 'name' }) as HTMLInputElement).value).toBe('mine');
    expect((screen.getByRole('textbox', { name: 'b' }) as HTMLInputElement).value).toBe('7');
  });

  it('launches a launch plan given as the target, showing its workflow inputs', async () => {
    const { calls, onLaunched, posts } = setup({ kind: 'launch_plan', name: 'wf_fixed' });
    const a = (await screen.findByRole('textbox', { name: 'a' })) as HTMLInputElement;
    expect(a.readOnly).toBe(true);
    expect(screen.queryByRole('combobox', { name: 'Launch plan' })).toBeNull();
    expect(calls.map(c => c.url.split('?')[0])).toEqual(['launch_plans/wf_fixed', 'workflows/kinds.wf']);
    fireEvent.click(screen.getByRole('button', { name: 'Launch' }));
    await waitFor(() => expect(onLaunched).toHaveBeenCalled());
    expect(posts()[0].body).toMatchObject({ kind: 'launch_plan', name: 'wf_fixed', version: 'v1' });
  });

  it('adds and removes key/value rows', async () => {
    setup(WORKFLOW);
    const envs = within(await screen.findByRole('group', { name: 'Environment variables' }));
    fireEvent.click(envs.getByRole('button', { name: 'Add environment variable' }));
    fireEvent.click(envs.getByRole('button', { name: 'Add environment variable' }));
    expect(document.activeElement).toBe(envs.getByRole('textbox', { name: 'Environment variable 2 name' }));
    fireEvent.change(envs.getByRole('textbox', { name: 'Environment variable 1 name' }), { target: { value: 'A' } });
    expect(envs.getByRole('button', { name: 'Remove environment variable 2' })).toBeTruthy();
    fireEvent.click(envs.getByRole('button', { name: 'Remove A' }));
    expect(envs.getAllByRole('textbox').map(t => t.getAttribute('aria-label'))).toEqual([
      'Environment variable 1 name',
      'Environment variable 1 value'
    ]);
  });

  it('shows a bad environment variable under its row', async () => {
    const { posts } = setup(WORKFLOW);
    fireEvent.change(await screen.findByRole('textbox', { name: 'a' }), { target: { value: '1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add environment variable' }));
    const key = screen.getByRole('textbox', { name: 'Environment variable 1 name' });
    fireEvent.change(key, { target: { value: '1X' } });
    fireEvent.blur(key);
    expect(description(key)).toMatch(/^Environment variable "1X" is not a valid name/);
    fireEvent.click(screen.getByRole('button', { name: 'Launch' }));
    expect(posts()).toEqual([]);
  });

  it('shows other failures in an alert', async () => {
    const { onLaunched } = setup(WORKFLOW, () => json(503, { error: 'unavailable', message: 'the Dask scheduler is not reachable' }));
    fireEvent.change(await screen.findByRole('textbox', { name: 'a' }), { target: { value: '1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Launch' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Could not launch: the Dask scheduler is not reachable');
    expect(onLaunched).not.toHaveBeenCalled();
    expect((screen.getByRole('button', { name: 'Launch' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('puts a taken execution name under its field', async () => {
    setup(WORKFLOW, () => json(409, { error: 'conflict', message: 'execution `run-1` already exists' }));
    fireEvent.change(await screen.findByRole('textbox', { name: 'a' }), { target: { value: '1' } });
    const name = screen.getByRole('textbox', { name: 'Execution name' });
    fireEvent.change(name, { target: { value: 'run-1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Launch' }));
    await waitFor(() => expect(description(name)).toContain('execution `run-1` already exists'));
    expect(name.getAttribute('aria-invalid')).toBe('true');
  });

  it('says when the target cannot be read, and cancels', async () => {
    const { onCancel } = setup({ kind: 'workflow', name: 'nope' });
    expect(screen.getByRole('status').textContent).toBe('Loading workflow nope…');
    expect((await screen.findByRole('alert')).textContent).toBe('Could not read workflow nope: no workflows/nope');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onCancel).toHaveBeenCalled();
  });
});
