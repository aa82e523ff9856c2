/** Where the lab serves workspaces: under Jupyter's base URL (`<base>plait/workspaces/...`), with its login. */
import { ServerConnection } from '@jupyterlab/services';

export function labBaseUrl(settings: ServerConnection.ISettings = ServerConnection.makeSettings()): string {
  return settings.baseUrl;
}
