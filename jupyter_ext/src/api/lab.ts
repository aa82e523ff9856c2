/** The lab's transport: Jupyter's own session and XSRF handling, to `/plait/api`. */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { PlaitClient, Transport } from './client';

export function labTransport(settings: ServerConnection.ISettings = ServerConnection.makeSettings()): Transport {
  return (url, init) =>
    ServerConnection.makeRequest(URLExt.join(settings.baseUrl, 'plait', 'api', url), init, settings);
}

export function labClient(): PlaitClient {
  return new PlaitClient(labTransport());
}

/**
 * The Dask dashboard as the lab serves it: under Jupyter's base URL and login,
 * forwarded by `plait.lab` to the backend with its token. The backend's own
 * link (health's `dask_dashboard`) is on a loopback port a browser may not
 * reach and needs the token: the lab never links to it.
 */
export function labDashboardUrl(settings: ServerConnection.ISettings = ServerConnection.makeSettings()): string {
  return URLExt.join(settings.baseUrl, 'plait', 'api', 'dask', 'status');
}
