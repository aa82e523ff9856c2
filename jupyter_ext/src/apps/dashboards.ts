/**
 * "Dashboard" on an execution: the lab server builds the Panel dashboard of
 * its outputs and deploys it as an app (`POST <base>plait/dashboards/execution/<id>`,
 * a route of the lab's own server extension, not of the backend's API).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { Transport } from '../api/client';
import type { DeployedDashboard } from './types';

/** The lab's transport to its own `plait/dashboards/...` routes (Jupyter's login and XSRF header). */
export function labDashboardTransport(settings: ServerConnection.ISettings = ServerConnection.makeSettings()): Transport {
  return (url, init) => ServerConnection.makeRequest(URLExt.join(settings.baseUrl, 'plait', 'dashboards', url), init, settings);
}

/** Deploy the dashboard of execution `id`'s outputs; the app that serves it (Pending or Started). */
export async function deployExecutionDashboard(transport: Transport, id: string): Promise<DeployedDashboard> {
  const response = await transport(`execution/${encodeURIComponent(id)}`, { method: 'POST' });
  const text = await response.text();
  let data: Record<string, unknown> = {};
  try {
    data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    data = { message: text };
  }
  if (!response.ok) {
    const message = typeof data.message === 'string' ? data.message : `the dashboard of ${id} was not deployed (HTTP ${response.status})`;
    throw new Error(message);
  }
  return data.app as DeployedDashboard;
}
