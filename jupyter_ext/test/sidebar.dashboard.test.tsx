import { cleanup, render, screen, waitFor } from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it } from 'vitest';

import { PlaitClient, Transport } from '../src/api/client';
import { labDashboardUrl } from '../src/api/lab';
import { Sidebar } from '../src/sidebar/Sidebar';

/** A backend whose health reports `dashboard` and whose lists are empty. */
function client(dashboard: string | null): PlaitClient {
  const transport: Transport = async url => {
    const body = url.startsWith('health')
      ? { status: 'ok', dask_dashboard: dashboard }
      : { items: [], limit: 50, offset: 0, next_offset: null };
    return new Response(JSON.stringify(body), { status: 200 });
  };
  return new PlaitClient(transport);
}

const noop = () => undefined;

describe('the Dask dashboard link', () => {
  afterEach(cleanup);

  it("points at the lab's forward under Jupyter's base URL, never at the backend's own link", async () => {
    const url = labDashboardUrl({ baseUrl: 'http://127.0.0.1:8888/user/ada/' } as never);
    expect(url).toBe('http://127.0.0.1:8888/user/ada/plait/api/dask/status');
    render(
      <Sidebar client={client('http://127.0.0.1:8787/status')} dashboardUrl={url} onOpenEntity={noop} onOpenExecution={noop} />
    );
    const link = await screen.findByRole('link', { name: 'Dask dashboard' });
    expect(link.getAttribute('href')).toBe(url);
    expect(link.getAttribute('target')).toBe('_blank');
    expect(link.getAttribute('rel')).toBe('noopener noreferrer');
  });

  it('is not shown when the backend has no dashboard', async () => {
    const plait = client(null);
    let asked = 0;
    const counting = new PlaitClient(async (url, init) => {
      asked += url.startsWith('health') ? 1 : 0;
      return plait.transport(url, init);
    });
    render(<Sidebar client={counting} dashboardUrl="/plait/api/dask/status" onOpenEntity={noop} onOpenExecution={noop} />);
    await waitFor(() => expect(asked).toBe(1));
    expect(screen.queryByRole('link', { name: 'Dask dashboard' })).toBeNull();
  });
});
