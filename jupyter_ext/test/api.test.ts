import { describe, expect, it, vi } from 'vitest';

import { ApiError, DAG_MIME, PlaitClient, queryString, request, Transport } from '../src/api/client';

function answer(status: number, body: unknown): Response {
  return new Response(body === undefined ? '' : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

describe('request', () => {
  it('fills path parameters, encodes the query and parses the answer', async () => {
    const transport = vi.fn<Transport>(async () => answer(200, { id: 'ab1', phase: 'RUNNING' }));
    const execution = await request(transport, 'get', 'executions/{id}', { path: { id: 'a b/1' } });
    expect(transport).toHaveBeenCalledWith('executions/a%20b%2F1', expect.objectContaining({ method: 'GET' }));
    expect(execution.phase).toBe('RUNNING');
  });

  it('reads the DAG routes, which answer in the DAG bundle media type', async () => {
    const bundle = { version: 1, name: 'flows.train', label: 'train', kind: 'workflow', inputs: [], outputs: [],
                     nodes: [], edges: [] };
    const transport = vi.fn<Transport>(
      async () => new Response(JSON.stringify(bundle), { status: 200, headers: { 'Content-Type': DAG_MIME } })
    );
    const dag = await request(transport, 'get', 'launch_plans/{name}/dag', {
      path: { name: 'flows.train' },
      query: { version: 'v2' }
    });
    expect(transport).toHaveBeenCalledWith('launch_plans/flows.train/dag?version=v2', expect.anything());
    expect(dag.label).toBe('train');
  });

  it('repeats list parameters and leaves out empty ones', () => {
    expect(queryString({ phase: ['RUNNING', 'QUEUED'], name: '', limit: 50, kind: undefined })).toBe(
      '?phase=RUNNING&phase=QUEUED&limit=50'
    );
    expect(queryString({})).toBe('');
  });

  it('sends bodies as JSON', async () => {
    const transport = vi.fn<Transport>(async () => answer(201, { id: 'x' }));
    await request(transport, 'post', 'executions', {
      body: { kind: 'workflow', name: 'wf', inputs: { a: 1 } } as never
    });
    const init = transport.mock.calls[0][1];
    expect(init.method).toBe('POST');
    expect(JSON.parse(String(init.body))).toEqual({ kind: 'workflow', name: 'wf', inputs: { a: 1 } });
    expect(init.headers).toEqual({ 'Content-Type': 'application/json' });
  });

  it('turns a 422 into an ApiError whose problems name the inputs', async () => {
    const body = {
      error: 'invalid_inputs',
      message: 'wf: input `x` expects int, found str',
      problems: [{ input: 'x', expected: 'int', found: 'str', message: 'expects int, found str' }]
    };
    const client = new PlaitClient(async () => answer(422, body));
    const error = await client.request('post', 'executions', { body: {} as never }).catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.message).toBe('wf: input `x` expects int, found str');
    expect(error.problems).toEqual({ x: 'expects int, found str' });
  });

  it('names the route when the answer has no message', async () => {
    const transport: Transport = async () => new Response('<html>bad gateway</html>', { status: 502 });
    const error = await request(transport, 'get', 'workflows').catch(e => e);
    expect(error.status).toBe(502);
    expect(error.message).toBe('<html>bad gateway</html>');
    const empty: Transport = async () => new Response('', { status: 503 });
    expect((await request(empty, 'get', 'workflows').catch(e => e)).message).toBe('GET workflows failed with HTTP 503');
  });

  it('says which path parameter is missing', async () => {
    const transport = vi.fn<Transport>();
    await expect(request(transport, 'get', 'executions/{id}', { path: {} as never })).rejects.toThrow(
      'path parameter `id` is missing'
    );
    expect(transport).not.toHaveBeenCalled();
  });
});
