import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { PlaitClient, Transport } from '../src/api/client';
import type { Execution } from '../src/api/client';
import { ArtifactList } from '../src/artifacts/ArtifactList';
import { ArtifactView } from '../src/artifacts/ArtifactView';
import type { MarkdownRenderer } from '../src/artifacts/markdown';
import type { ArtifactSummary, ArtifactUse, ArtifactVersion, Lineage } from '../src/artifacts/types';
import { layoutDag } from '../src/dag/layout';
import { ExecutionView } from '../src/execution/ExecutionView';
import type { NodeRun } from '../src/execution/model';

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

function version(name: string, v: string, extra: Partial<ArtifactVersion> = {}): ArtifactVersion {
  return {
    id: 1, project: 'default', domain: 'development', name, version: v,
    uri: `plait://default/development/${name}@${v}`, partitions: {}, time_partition: null, granularity: null,
    type: { kind: 'integer' }, type_name: 'int', value: { literal: 3, hash: 'h' }, preview: '3', cards: [],
    producer: null, created_at: at(5), ...extra
  };
}

const MODEL_EU = version('model', '3f2a9c0d1e2b4a5c', {
  partitions: { region: 'eu' },
  time_partition: '2026-12-06T00:00:00',
  granularity: 'DAY',
  cards: [{ kind: 'model', text: '# Model card\n\nTrained on **eu**.' }],
  producer: { execution_id: 'train1', node_path: 'n0', task: 'flows.train', task_version: 'v1', output: 'o0' },
  value: { uri: 's3://bucket/artifacts/model.pkl', format: 'pickle', hash: 'h', preview: 'Model(depth=3)' },
  preview: 'Model(depth=3)',
  created_at: at(2)
});
const MODEL_US = version('model', '0000aaaa1111bbbb', { partitions: { region: 'us' }, created_at: at(30) });
const TABLE = version('city_table', 'ccccdddd00001111', { created_at: at(60), type_name: 'DataFrame' });

const SUMMARIES: ArtifactSummary[] = [
  { project: 'default', domain: 'development', name: 'model', versions: 2, partition_keys: ['region'],
    time_partitioned: true, latest: MODEL_EU },
  { project: 'default', domain: 'development', name: 'city_table', versions: 1, partition_keys: [],
    time_partitioned: false, latest: TABLE }
];

const LINEAGE: Lineage = {
  nodes: [
    { id: 'execution:train1', kind: 'execution', execution_id: 'train1', entity_name: 'flows.train', phase: 'SUCCEEDED' },
    { id: 'artifact:model@3f2a9c0d1e2b4a5c', kind: 'artifact', name: 'model', version: '3f2a9c0d1e2b4a5c',
      partitions: { region: 'eu' }, type: { kind: 'integer' }, project: 'default', domain: 'development' },
    { id: 'execution:score1', kind: 'execution', execution_id: 'score1', entity_name: 'flows.score', phase: 'SUCCEEDED' },
    { id: 'artifact:score@9999', kind: 'artifact', name: 'score', version: '9999', partitions: {}, type: { kind: 'float' },
      project: 'default', domain: 'development' }
  ],
  edges: [
    { source: 'execution:train1', target: 'artifact:model@3f2a9c0d1e2b4a5c', kind: 'produced', node_path: 'n0', port: 'o0' },
    { source: 'artifact:model@3f2a9c0d1e2b4a5c', target: 'execution:score1', kind: 'consumed', node_path: '', port: 'model' },
    { source: 'execution:score1', target: 'artifact:score@9999', kind: 'produced', node_path: 'n0', port: 'o0' }
  ]
};

interface Call {
  path: string;
  query: URLSearchParams;
}

/** The artifact routes in memory: versions filtered by `partition=k=v`, pages of one item for paging. */
function fakeBackend(extra: (path: string, query: URLSearchParams) => unknown = () => undefined) {
  const calls: Call[] = [];
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
  const all = [MODEL_EU, MODEL_US, TABLE];
  const transport: Transport = async url => {
    const parsed = new URL(url, 'http://plait/');
    const path = decodeURIComponent(parsed.pathname.slice(1));
    const query = parsed.searchParams;
    calls.push({ path, query });
    const answer = extra(path, query);
    if (answer !== undefined) {
      return json(answer);
    }
    if (path === 'artifacts') {
      const contains = query.get('name_contains') ?? '';
      const items = SUMMARIES.filter(s => s.name.includes(contains));
      return json({ items, limit: 200, offset: 0, next_offset: null });
    }
    let m = path.match(/^artifacts\/([^/]+)\/versions$/);
    if (m) {
      const wanted = query.getAll('partition').map(p => p.split('='));
      const items = all.filter(v => v.name === m![1] && wanted.every(([k, val]) => v.partitions[k] === val));
      return json({ items, limit: 20, offset: 0, next_offset: null });
    }
    m = path.match(/^artifacts\/([^/]+)\/versions\/([^/]+)$/);
    if (m) {
      const found = all.find(v => v.name === m![1] && v.version === m![2]);
      return found ? json(found) : json({ error: 'not_found', message: `no version ${m[2]} of ${m[1]}` }, 404);
    }
    if (path.endsWith('/lineage')) {
      return json(LINEAGE);
    }
    return json({ error: 'not_found', message: `no route ${path}` }, 404);
  };
  return { client: new PlaitClient(transport), calls };
}

beforeAll(async () => {
  // The first ELK layout in a process compiles a lot of code: take that time here.
  await layoutDag({ nodes: [], edges: [], inputs: [], outputs: [] });
}, 20_000);
afterEach(cleanup);

describe('ArtifactList', () => {
  it('lists one row per artifact, and a search by name and partition narrows it', async () => {
    const { client, calls } = fakeBackend();
    render(<ArtifactList client={client} generation={0} onOpenArtifact={vi.fn()} onOpenExecution={vi.fn()} />);
    const list = screen.getByRole('list', { name: 'Artifacts' });
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(2));
    const model = screen.getByRole('button', { name: 'Artifact model' });
    expect(model.textContent).toContain('2 versions · keys: region, time_partition · newest 2m ago');

    const search = screen.getByRole('searchbox', { name: 'Search artifacts' });
    fireEvent.change(search, { target: { value: 'table' } });
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Artifact model' })).toBeNull());
    screen.getByRole('button', { name: 'Artifact city_table' });

    // city_table has no `region` key: it cannot match, and is not even asked
    calls.length = 0;
    fireEvent.change(search, { target: { value: 'region=us' } });
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Artifact city_table' })).toBeNull());
    await screen.findByRole('button', { name: 'Artifact model' });
    expect(calls.map(c => `${c.path}?${c.query}`)).toEqual([
      'artifacts?limit=200',
      'artifacts/model/versions?partition=region%3Dus&limit=1&project=default&domain=development'
    ]);

    fireEvent.change(search, { target: { value: 'region=mars' } });
    await screen.findByText('No artifacts match “region=mars”.');

    fireEvent.change(search, { target: { value: 'region=' } });
    await screen.findByText(/give the value of region after the =/);
  });

  it('a name opens its versions, newest first, in the searched partitions; a version opens its view', async () => {
    const onOpenArtifact = vi.fn();
    const onOpenExecution = vi.fn();
    const { client } = fakeBackend();
    render(
      <ArtifactList client={client} generation={0} onOpenArtifact={onOpenArtifact} onOpenExecution={onOpenExecution} />
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Artifact model' }));
    const versions = await screen.findByRole('list', { name: 'Versions of model' });
    const rows = within(versions).getAllByRole('listitem');
    expect(rows.map(r => within(r).getAllByRole('button')[0].textContent)).toEqual(['3f2a9c0d1e2b4a5c', '0000aaaa1111bbbb']);
    expect(rows[0].textContent).toContain('region=eu');
    expect(rows[0].textContent).toContain('2026-12-06T00:00:00 (day)');
    expect(rows[1].textContent).toContain('created through the API');

    fireEvent.click(within(rows[0]).getByRole('button', { name: 'train1' }));
    expect(onOpenExecution).toHaveBeenCalledWith('train1');
    fireEvent.click(within(rows[0]).getByRole('button', { name: 'Open model version 3f2a9c0d1e2b4a5c' }));
    expect(onOpenArtifact).toHaveBeenCalledWith('model', '3f2a9c0d1e2b4a5c', { project: 'default', domain: 'development' });

    // with a partition filter, only that partition's versions
    fireEvent.change(screen.getByRole('searchbox', { name: 'Search artifacts' }), { target: { value: 'model region=us' } });
    await waitFor(() => {
      const shown = within(screen.getByRole('list', { name: 'Versions of model' })).getAllByRole('listitem');
      expect(shown.map(r => within(r).getAllByRole('button')[0].textContent)).toEqual(['0000aaaa1111bbbb']);
    });
  });
});

describe('ArtifactView', { timeout: 20_000 }, () => {
  it('shows what the version is, where it came from, its card and how to load it', async () => {
    const { client } = fakeBackend();
    const onOpenExecution = vi.fn();
    // a stand-in for JupyterLab's renderer: a heading from the card's first line
    const rendered: string[] = [];
    const renderMarkdown: MarkdownRenderer = async (text, host) => {
      rendered.push(text);
      const h1 = document.createElement('h1');
      h1.textContent = text.split('\n')[0].replace(/^# /, '');
      host.append(h1);
      return () => h1.remove();
    };
    render(
      <ArtifactView
        client={client}
        name="model"
        version="3f2a9c0d1e2b4a5c"
        onOpenExecution={onOpenExecution}
        onOpenArtifact={vi.fn()}
        renderMarkdown={renderMarkdown}
      />
    );
    const about = await screen.findByLabelText('About this version');
    const text = about.textContent ?? '';
    expect(text).toContain('Typeint');
    expect(text).toContain('Partitionsregion=eu');
    expect(text).toContain('Time partition2026-12-06T00:00:00 (day)');
    expect(text).toContain('Producerexecution train1, node n0 (flows.train → o0)');
    expect(text).toContain('URIplait://default/development/model@3f2a9c0d1e2b4a5c');
    expect(text).toContain('Stored ats3://bucket/artifacts/model.pkl');
    fireEvent.click(within(about).getByRole('button', { name: 'train1' }));
    expect(onOpenExecution).toHaveBeenCalledWith('train1');

    const card = screen.getByRole('region', { name: 'Model card' });
    await waitFor(() => expect(within(card).getByRole('heading', { level: 1 }).textContent).toBe('Model card'));
    expect(rendered).toEqual(['# Model card\n\nTrained on **eu**.']);

    const snippet = screen.getByRole('region', { name: 'Load it' });
    expect(snippet.textContent).toContain('plait.Remote().get_artifact("plait://default/development/model@3f2a9c0d1e2b4a5c")');
    // the value: offloaded, its preview and a Load button
    screen.getByRole('button', { name: 'Load model' });
  });

  it('without a Markdown renderer a card shows as its text', async () => {
    const { client } = fakeBackend();
    render(<ArtifactView client={client} name="model" version="3f2a9c0d1e2b4a5c" onOpenExecution={vi.fn()} onOpenArtifact={vi.fn()} />);
    const card = await screen.findByRole('region', { name: 'Model card' });
    expect(card.querySelector('pre')?.textContent).toBe('# Model card\n\nTrained on **eu**.');
  });

  it('draws the lineage; an execution opens the execution view, another artifact its own view', async () => {
    const { client, calls } = fakeBackend();
    const onOpenExecution = vi.fn();
    const onOpenArtifact = vi.fn();
    render(
      <ArtifactView
        client={client}
        name="model"
        version="3f2a9c0d1e2b4a5c"
        onOpenExecution={onOpenExecution}
        onOpenArtifact={onOpenArtifact}
      />
    );
    const lineage = await screen.findByRole('region', { name: 'Lineage' });
    const graph = await within(lineage).findByRole('group', { name: 'DAG of artifact lineage of model@3f2a9c0d' }, { timeout: 10_000 });
    const producer = within(graph).getByRole('button', { name: 'node train · train1 (execution), SUCCEEDED' });
    const self = within(graph).getByRole('button', { name: 'node model@3f2a9c0d (artifact)' });
    expect(self.getAttribute('aria-current')).toBe('true');
    expect(graph.querySelectorAll('.plait-DagEdge')).toHaveLength(3);
    expect(graph.querySelectorAll('.plait-DagKind-artifact')).toHaveLength(2);
    expect(graph.querySelectorAll('.plait-DagKind-execution')).toHaveLength(2);
    expect(lineage.textContent).toContain('Made by train1 (flows.train). Read by score1 (flows.score).');

    fireEvent.click(producer);
    expect(onOpenExecution).toHaveBeenCalledWith('train1');
    fireEvent.click(self); // the version shown: nothing to open
    expect(onOpenArtifact).not.toHaveBeenCalled();
    fireEvent.click(within(graph).getByRole('button', { name: 'node score@9999 (artifact)' }));
    expect(onOpenArtifact).toHaveBeenCalledWith('score', '9999', { project: 'default', domain: 'development' });

    fireEvent.change(within(lineage).getByRole('combobox', { name: 'Lineage depth' }), { target: { value: '4' } });
    await waitFor(() => expect(calls.filter(c => c.path.endsWith('/lineage')).map(c => c.query.get('depth'))).toEqual(['2', '4']));
  });

  it('says so when the version does not exist', async () => {
    const { client } = fakeBackend();
    render(<ArtifactView client={client} name="model" version="ffff" onOpenExecution={vi.fn()} onOpenArtifact={vi.fn()} />);
    expect((await screen.findByRole('alert')).textContent).toBe('Artifact model@ffff: no version ffff of model');
  });
});

describe('the execution view', () => {
  const execution = {
    id: 'score1', project: 'default', domain: 'development',
    entity: { kind: 'workflow', name: 'flows.score', version: 'v1' }, launch_plan: null, phase: 'SUCCEEDED',
    inputs: { model: { literal: 3, hash: 'h' } }, outputs: {}, error: null, settings: {}, parent_execution_id: null,
    parent_node_path: null, abort_requested: false, created_at: at(3), started_at: at(3), ended_at: at(2), duration_s: 60
  } as unknown as Execution;
  const node = (path: string): NodeRun => ({
    path, parent_path: null, entity_name: 'flows.fit', entity_version: 'v1', kind: 'task', phase: 'SUCCEEDED',
    inputs: {}, outputs: {}, error: null, created_at: at(3), started_at: at(3), ended_at: at(2), attempts: []
  });
  const use = (v: ArtifactVersion, node_path: string, how: ArtifactUse['how'], port: string): ArtifactUse => ({
    artifact: v, node_path, how, port
  });

  it("shows a node's emitted and consumed artifacts, and the execution's own, each opening its view", async () => {
    const score = version('score', '9999', { partitions: { region: 'eu' } });
    const { client } = fakeBackend((path) => {
      if (path === 'executions/score1') {
        return execution;
      }
      if (path === 'executions/score1/nodes') {
        return { execution_id: 'score1', nodes: [node('n0'), node('n1')] };
      }
      if (path === 'executions/score1/artifacts') {
        return {
          emitted: [use(score, 'n0', 'emitted', 'o0')],
          consumed: [use(MODEL_EU, '', 'query', 'model'), use(TABLE, 'n0', 'query', 't')]
        };
      }
      return undefined;
    });
    const onOpenArtifact = vi.fn();
    render(<ExecutionView client={client} executionId="score1" onOpenArtifact={onOpenArtifact} />);

    const inputs = await screen.findByRole('list', { name: 'Artifacts consumed by the execution' });
    expect(inputs.textContent).toBe('model@3f2a9c0d query default · input model · region=eu · time 2026-12-06T00:00:00');

    const table = await screen.findByRole('table', { name: 'Nodes' });
    await act(async () => {
      fireEvent.click(table.querySelector("tr[data-path='n0']")!);
    });
    const panel = screen.getByRole('complementary', { name: 'Node n0' });
    const emitted = await within(panel).findByRole('list', { name: 'Artifacts emitted by n0' });
    expect(emitted.textContent).toBe('score@9999 emitted · output o0 · region=eu');
    const consumed = within(panel).getByRole('list', { name: 'Artifacts consumed by n0' });
    expect(consumed.textContent).toBe('city_table@ccccdddd query default · input t');
    fireEvent.click(within(emitted).getByRole('button', { name: 'score@9999' }));
    expect(onOpenArtifact).toHaveBeenCalledWith('score', '9999', { project: 'default', domain: 'development' });

    // a node with no artifacts has no Artifacts section
    await act(async () => {
      fireEvent.click(table.querySelector("tr[data-path='n1']")!);
    });
    const other = screen.getByRole('complementary', { name: 'Node n1' });
    await waitFor(() => expect(within(other).getByRole('heading', { name: 'Attempts' })).toBeTruthy());
    expect(within(other).queryByRole('heading', { name: 'Artifacts' })).toBeNull();
  });
});
