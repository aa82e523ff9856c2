/** The calls the Apps tab and the app view make, through the one typed client. */
import type { PlaitClient } from '../api/client';
import type { AppEvent, AppView } from './types';

/** Where an app lives; the backend's defaults when absent. */
export interface Scope {
  project?: string;
  domain?: string;
}

export type Action = 'start' | 'stop';

export async function listApps(client: PlaitClient, scope: Scope = {}, signal?: AbortSignal): Promise<AppView[]> {
  const answer = await client.request('get', 'apps', { query: scope, signal });
  return answer.apps;
}

export function getApp(client: PlaitClient, name: string, scope: Scope = {}, signal?: AbortSignal): Promise<AppView> {
  return client.request('get', 'apps/{name}', { path: { name }, query: scope, signal });
}

export function act(client: PlaitClient, name: string, action: Action, scope: Scope = {}): Promise<AppView> {
  const options = { path: { name }, query: scope };
  return action === 'start'
    ? client.request('post', 'apps/{name}/start', options)
    : client.request('post', 'apps/{name}/stop', options);
}

export async function appLogs(client: PlaitClient, name: string, replica: number, scope: Scope = {}, tail = 200): Promise<string[]> {
  const answer = await client.request('get', 'apps/{name}/logs', { path: { name }, query: { ...scope, replica, tail } });
  return answer.lines;
}

export async function appEvents(client: PlaitClient, name: string, scope: Scope = {}, limit = 50): Promise<AppEvent[]> {
  const answer = await client.request('get', 'apps/{name}/events', { path: { name }, query: { ...scope, limit } });
  return answer.events.map(e => ({ at: String(e.at ?? ''), message: String(e.message ?? '') }));
}
