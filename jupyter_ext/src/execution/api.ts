/** The calls the execution view makes, all through the one typed client. */
import { ApiError, queryString } from '../api/client';
import type { ApiPath, Entity, Execution, LogChunk, PlaitClient, Schemas } from '../api/client';
import type { Dag } from '../dag/types';
import type { NodeRun } from './model';

export function getExecution(client: PlaitClient, id: string): Promise<Execution> {
  return client.request('get', 'executions/{id}', { path: { id } });
}

export async function getNodes(client: PlaitClient, id: string): Promise<NodeRun[]> {
  const list = await client.request('get', 'executions/{id}/nodes', { path: { id } });
  return list.nodes;
}

export function readLogs(
  client: PlaitClient,
  id: string,
  path: string,
  attempt: number | undefined,
  offset: number
): Promise<LogChunk> {
  return client.request('get', 'executions/{id}/nodes/{path}/logs', {
    path: { id, path },
    query: { attempt, offset }
  });
}

export function getTask(
  client: PlaitClient,
  name: string,
  version: string | undefined,
  execution: Pick<Execution, 'project' | 'domain'>
): Promise<Entity> {
  return client.request('get', 'tasks/{name}', {
    path: { name },
    query: { version, project: execution.project, domain: execution.domain }
  });
}

export function relaunch(client: PlaitClient, id: string): Promise<Execution> {
  return client.request('post', 'executions/{id}/relaunch', { path: { id } });
}

/** What "Run from here" asks for: the nodes to run again and the workflow inputs given instead of the original's. */
export type RerunRequest = Schemas['RerunRequest'];

/**
 * A new execution that runs `body.from_nodes` (and what depends on them) again and takes every
 * other node's outputs from execution `id` (REUSED); 409 while `id` runs, 422 naming the node or input.
 */
export function rerun(client: PlaitClient, id: string, body: RerunRequest): Promise<Execution> {
  return client.request('post', 'executions/{id}/rerun', { path: { id }, body });
}

/** Ask the backend to stop an execution; `reason` (optional) is shown with its error. */
export function abort(client: PlaitClient, id: string, reason?: string): Promise<Execution> {
  const text = reason?.trim();
  return client.request('post', 'executions/{id}/abort', {
    path: { id },
    ...(text ? { body: { reason: text } } : {})
  });
}

/** The signals an execution's gates opened: waiting (`is_set` false) or given. */
export async function listSignals(client: PlaitClient, id: string): Promise<Schemas['Signal'][]> {
  const list = await client.request('get', 'executions/{id}/signals', { path: { id } });
  return list.items;
}

/**
 * Give a waiting gate its value (an approval's is true or false), once: 422 when the value is not of the
 * signal's type (by field `value`), 409 when it was set already, 404 when no gate waits for it.
 */
export function setSignal(client: PlaitClient, id: string, name: string, value: unknown): Promise<Schemas['Signal']> {
  return client.request('post', 'executions/{id}/signals/{name}', { path: { id, name }, body: { value } });
}

async function failure(response: Response, route: string): Promise<ApiError> {
  let body: ApiError['body'] = {};
  try {
    body = JSON.parse(await response.text());
  } catch {
    // not JSON: keep the generic message
  }
  return new ApiError(response.status, body, route);
}

/** The DAG bundle of a registered workflow (`GET workflows/{name}/dag`). */
export function getDag(
  client: PlaitClient,
  name: string,
  version: string | undefined,
  execution: Pick<Execution, 'project' | 'domain'>
): Promise<Dag> {
  return client.request('get', 'workflows/{name}/dag', {
    path: { name },
    query: { version, project: execution.project, domain: execution.domain }
  });
}

const DATA: ApiPath = 'data';

/** The stored bytes of an offloaded value (`GET data?uri=`): binary, so read as a blob. */
export async function loadValue(client: PlaitClient, uri: string): Promise<Uint8Array> {
  const response = await client.transport(DATA + queryString({ uri }), { method: 'GET' });
  if (!response.ok) {
    throw await failure(response, `GET ${DATA}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
