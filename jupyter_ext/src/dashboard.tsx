/**
 * Links into the Dask dashboard as the lab serves it (`labDashboardUrl`): the
 * sidebar's and the execution header's "Dask dashboard", and a worker's own page
 * from the node panel. They show while the backend reports a dashboard.
 */
import * as React from 'react';

import type { PlaitClient } from './api/client';

/** Whether the backend has a dashboard (health's `dask_dashboard`), asked again when `generation` changes. */
export function useDashboard(client: PlaitClient, url: string | undefined, generation = 0): boolean {
  const [available, setAvailable] = React.useState(false);
  React.useEffect(() => {
    if (!url) {
      return;
    }
    let live = true;
    client
      .request('get', 'health')
      .then(health => live && setAvailable(Boolean(health.dask_dashboard)))
      .catch(() => live && setAvailable(false));
    return () => {
      live = false;
    };
  }, [client, url, generation]);
  return Boolean(url) && available;
}

/**
 * The dashboard's page of one worker: `<dashboard>/info/worker/<address>.html`, the address
 * encoded as one path segment (`tls%3A%2F%2F10.0.0.5%3A4012`), as the dashboard names it.
 * `dashboardUrl` is the status page's URL (`.../plait/api/dask/status`).
 */
export function workerPageUrl(dashboardUrl: string, address: string): string {
  const root = dashboardUrl.replace(/\/status\/?$/, '').replace(/\/$/, '');
  return `${root}/info/worker/${encodeURIComponent(address)}.html`;
}

/** "Dask dashboard", opening in a new browser tab. */
export function DashboardLink(props: { url: string; className?: string }): JSX.Element {
  return (
    <a
      className={`plait-DashboardLink ${props.className ?? ''}`.trim()}
      href={props.url}
      target="_blank"
      rel="noopener noreferrer"
      title="Open the Dask dashboard in a new tab"
    >
      Dask dashboard
    </a>
  );
}
