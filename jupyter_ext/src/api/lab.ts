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
