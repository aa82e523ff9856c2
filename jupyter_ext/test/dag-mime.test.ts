import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { cleanup, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { DAG_MIME } from '../src/dag/types';
import extension, { rendererFactory } from '../src/mime';
import bothWays from './fixtures/dag-both_ways.json';

// jsdom has no DragEvent, which @lumino/dragdrop (under @lumino/widgets) extends when imported.
vi.hoisted(() => {
  const g = globalThis as { DragEvent?: unknown; MouseEvent: typeof MouseEvent };
  g.DragEvent ??= class DragEvent extends g.MouseEvent {};
});

function model(data: unknown): IRenderMime.IMimeModel {
  return { trusted: false, data: { [DAG_MIME]: data } as never, metadata: {}, setData: () => undefined };
}

afterEach(cleanup);

describe('the DAG MIME renderer', { timeout: 20_000 }, () => {
  it('registers for the DAG MIME type, safe, as JSON', () => {
    expect(extension.rendererFactory.mimeTypes).toEqual([DAG_MIME]);
    expect(extension.rendererFactory.safe).toBe(true);
    expect(extension.dataType).toBe('json');
  });

  it('draws the bundle that %plait dag emits, sized to its content', async () => {
    const renderer = rendererFactory.createRenderer({ mimeType: DAG_MIME } as IRenderMime.IRendererOptions);
    Widget.attach(renderer, document.body);
    await renderer.renderModel(model(bothWays));
    await screen.findByRole('group', { name: 'DAG of workflow both_ways' }, { timeout: 10_000 });
    screen.getByRole('button', { name: 'node pair_sum (launch plan)' });
    const canvas = renderer.node.querySelector<HTMLElement>('.plait-DagView-canvas')!;
    const height = parseFloat(canvas.style.height);
    expect(height).toBeGreaterThanOrEqual(120);
    expect(height).toBeLessThanOrEqual(600);
    renderer.dispose();
    expect(renderer.node.querySelector('svg')).toBeNull();
  });

  it('says so when the bundle is not one it can draw', async () => {
    const renderer = rendererFactory.createRenderer({ mimeType: DAG_MIME } as IRenderMime.IRendererOptions);
    Widget.attach(renderer, document.body);
    await renderer.renderModel(model({ version: 2 }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('expected version 1'));
    renderer.dispose();
  });
});
