/** The calls the Workspaces tab, the workspace form and view make, through the one typed client. */
import type { PlaitClient } from '../api/client';
import { listQuery, type ListFilter } from './model';
import type { Workspace, WorkspaceSpecFields } from './types';

/** Where a workspace lives; the backend's defaults when absent. */
export interface Scope {
  project?: string;
  domain?: string;
}

export type Action = 'start' | 'stop' | 'archive' | 'unarchive';

export async function listWorkspaces(
  client: PlaitClient,
  filter: ListFilter,
  scope: Scope = {},
  signal?: AbortSignal
): Promise<Workspace[]> {
  const answer = await client.request('get', 'workspaces', { query: { ...listQuery(filter), ...scope }, signal });
  return answer.workspaces;
}

export function getWorkspace(client: PlaitClient, name: string, scope: Scope = {}, signal?: AbortSignal): Promise<Workspace> {
  return client.request('get', 'workspaces/{name}', { path: { name }, query: scope, signal });
}

export function createWorkspace(client: PlaitClient, spec: WorkspaceSpecFields, start = true): Promise<Workspace> {
  return client.request('post', 'workspaces', { body: { spec: spec as unknown as Record<string, unknown>, start } });
}

export function updateWorkspace(client: PlaitClient, spec: WorkspaceSpecFields, scope: Scope = {}): Promise<Workspace> {
  return client.request('put', 'workspaces/{name}', {
    path: { name: spec.name },
    query: scope,
    body: { spec: spec as unknown as Record<string, unknown> }
  });
}

export function act(client: PlaitClient, name: string, action: Action, scope: Scope = {}): Promise<Workspace> {
  const options = { path: { name }, query: scope };
  switch (action) {
    case 'start':
      return client.request('post', 'workspaces/{name}/start', options);
    case 'stop':
      return client.request('post', 'workspaces/{name}/stop', options);
    case 'archive':
      return client.request('post', 'workspaces/{name}/archive', options);
    case 'unarchive':
      return client.request('post', 'workspaces/{name}/unarchive', options);
  }
}

export async function workspaceLog(client: PlaitClient, name: string, scope: Scope = {}, tail = 200): Promise<string[]> {
  const answer = await client.request('get', 'workspaces/{name}/log', { path: { name }, query: { ...scope, tail } });
  return answer.lines;
}

/** "Debug in a workspace": a workspace that reproduces a failed node, started. */
export function debugNode(client: PlaitClient, executionId: string, nodeId: string): Promise<Workspace> {
  return client.request('post', 'executions/{id}/nodes/{node_id}/debug', {
    path: { id: executionId, node_id: nodeId },
    body: { start: true }
  });
}
