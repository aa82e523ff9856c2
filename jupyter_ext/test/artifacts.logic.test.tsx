import { describe, expect, it } from 'vitest';

import { artifactMeta } from '../src/artifacts/ArtifactList';
import { loadSnippet } from '../src/artifacts/ArtifactView';
import { usesOf } from '../src/artifacts/ExecutionArtifacts';
import { lineageDag, lineagePhases, neighbours, targetOf } from '../src/artifacts/lineage';
import { keysCover, parseSearch, partitionParams } from '../src/artifacts/search';
import type { ArtifactUse, ArtifactVersion, Lineage } from '../src/artifacts/types';
import { kindClass, kindsOf } from '../src/dag/legend';

describe('parseSearch', () => {
  it('splits name words from key=value partition filters', () => {
    expect(parseSearch('model region=eu size=small')).toEqual({
      name: 'model',
      partitions: { region: 'eu', size: 'small' },
      problems: []
    });
    expect(parseSearch('  ')).toEqual({ name: '', partitions: {}, problems: [] });
    expect(parseSearch('region=eu').name).toBe('');
  });

  it('keeps a quoted value with spaces, and a value holding =', () => {
    expect(parseSearch('city="New York" tables').partitions).toEqual({ city: 'New York' });
    expect(parseSearch('city="New York" tables').name).toBe('tables');
    expect(parseSearch('expr=a=b').partitions).toEqual({ expr: 'a=b' });
  });

  it('a key typed twice keeps its last value', () => {
    expect(parseSearch('region=eu region=us').partitions).toEqual({ region: 'us' });
  });

  it('says what is wrong with a half-typed or bad filter, and does not filter by it', () => {
    const empty = parseSearch('model region=');
    expect(empty.partitions).toEqual({});
    expect(empty.problems).toEqual(['`region=`: give the value of region after the = (region=VALUE)']);
    expect(parseSearch('=eu').problems).toEqual(['`=eu`: name the partition before the = (KEY=eu)']);
    expect(parseSearch('re-gion=eu').problems[0]).toContain('a partition key is a name');
  });

  it('turns filters into the versions route parameters', () => {
    expect(partitionParams(parseSearch('region=eu size=small').partitions)).toEqual(['region=eu', 'size=small']);
  });

  it('knows which artifacts can match the filters at all', () => {
    expect(keysCover(['region'], false, { region: 'eu' })).toBe(true);
    expect(keysCover(['region'], false, { size: 's' })).toBe(false);
    expect(keysCover([], true, { time_partition: '2026-12-06' })).toBe(true);
    expect(keysCover([], false, { time_partition: '2026-12-06' })).toBe(false);
  });
});

const LINEAGE: Lineage = {
  nodes: [
    { id: 'execution:train1', kind: 'execution', execution_id: 'train1', entity_name: 'flows.train', phase: 'SUCCEEDED' },
    {
      id: 'artifact:model@3f2a9c0d1e2b4a5c', kind: 'artifact', name: 'model', version: '3f2a9c0d1e2b4a5c',
      partitions: { region: 'eu' }, time_partition: null, created_at: '2026-12-06T10:00:00Z', type: { kind: 'integer' },
      project: 'default', domain: 'development'
    },
    { id: 'execution:score1', kind: 'execution', execution_id: 'score1', entity_name: 'flows.score', phase: 'RUNNING' },
    {
      id: 'artifact:a@b@00000000000000aa', kind: 'artifact', name: 'a@b', version: '00000000000000aa',
      partitions: {}, type: { kind: 'string' }, project: 'other', domain: 'staging'
    }
  ],
  edges: [
    { source: 'execution:train1', target: 'artifact:model@3f2a9c0d1e2b4a5c', kind: 'produced', node_path: 'n0', port: 'o0' },
    { source: 'artifact:model@3f2a9c0d1e2b4a5c', target: 'execution:score1', kind: 'consumed', node_path: '', port: 'model' },
    { source: 'artifact:model@3f2a9c0d1e2b4a5c', target: 'execution:score1', kind: 'consumed', node_path: 'n1', port: 'm' },
    { source: 'execution:score1', target: 'artifact:a@b@00000000000000aa', kind: 'produced', node_path: 'n1', port: 'o0' },
    // an edge to a node the answer left out (past the depth) is not drawn
    { source: 'execution:score1', target: 'artifact:gone@1', kind: 'produced', node_path: 'n2', port: 'o0' }
  ]
};

describe('lineageDag', () => {
  const focus = { name: 'model', version: '3f2a9c0d1e2b4a5c' };

  it('makes artifacts and executions nodes of their own kinds, keyed by the lineage ids', () => {
    const dag = lineageDag(LINEAGE, focus);
    expect(dag.kind).toBe('artifact');
    expect(dag.label).toBe('lineage of model@3f2a9c0d');
    expect(dag.nodes.map(n => [n.path, n.kind, n.label])).toEqual([
      ['execution:train1', 'execution', 'train · train1'],
      ['artifact:model@3f2a9c0d1e2b4a5c', 'artifact', 'model@3f2a9c0d'],
      ['execution:score1', 'execution', 'score · score1'],
      ['artifact:a@b@00000000000000aa', 'artifact', 'a@b@00000000']
    ]);
    // the tooltip line: the full version, partitions and type
    expect(dag.nodes[1].entity).toBe('model@3f2a9c0d1e2b4a5c · region=eu · int');
    expect(dag.nodes[0].entity).toBe('execution train1 of flows.train');
    // the legend shows the two kinds, each with a colour of its own
    expect(kindsOf(dag)).toEqual(['artifact', 'execution']);
    expect(kindClass('artifact')).not.toBe(kindClass('execution'));
  });

  it('draws one edge per pair of nodes, naming every port, and drops edges to missing nodes', () => {
    const dag = lineageDag(LINEAGE, focus);
    expect(dag.edges).toEqual([
      { source: 'execution:train1', target: 'artifact:model@3f2a9c0d1e2b4a5c', kind: 'data', label: 'produced (n0.o0)' },
      {
        source: 'artifact:model@3f2a9c0d1e2b4a5c', target: 'execution:score1', kind: 'data',
        label: 'consumed (model), consumed (n1.m)'
      },
      { source: 'execution:score1', target: 'artifact:a@b@00000000000000aa', kind: 'data', label: 'produced (n1.o0)' }
    ]);
  });

  it('colours executions by phase and finds what a click opens', () => {
    expect(lineagePhases(LINEAGE)).toEqual({ 'execution:train1': 'SUCCEEDED', 'execution:score1': 'RUNNING' });
    expect(targetOf(LINEAGE, 'execution:score1')).toEqual({ kind: 'execution', id: 'score1' });
    // a name with @ in it is read from the node, not split out of its id; it opens in its own project
    expect(targetOf(LINEAGE, 'artifact:a@b@00000000000000aa')).toEqual({
      kind: 'artifact', name: 'a@b', version: '00000000000000aa', project: 'other', domain: 'staging'
    });
    expect(targetOf(LINEAGE, 'artifact:nowhere@1')).toBeNull();
  });

  it('lists the producers and consumers of the focus once each', () => {
    const near = neighbours(LINEAGE, 'artifact:model@3f2a9c0d1e2b4a5c');
    expect(near.producers.map(n => n.id)).toEqual(['execution:train1']);
    expect(near.consumers.map(n => n.id)).toEqual(['execution:score1']);
  });
});

function version(extra: Partial<ArtifactVersion> = {}): ArtifactVersion {
  return {
    id: 1, project: 'default', domain: 'development', name: 'model', version: '3f2a9c0d1e2b4a5c',
    uri: 'plait://default/development/model@3f2a9c0d1e2b4a5c', partitions: {}, time_partition: null,
    granularity: null, type: { kind: 'integer' }, type_name: 'int', value: { literal: 3, hash: 'h' }, preview: '3',
    cards: [], producer: null, created_at: new Date(Date.now() - 120_000).toISOString(), ...extra
  };
}

describe('the rows and uses', () => {
  it("a row says how many versions, which keys, and how new the newest is", () => {
    const now = Date.now();
    const row = { project: 'p', domain: 'd', name: 'model', versions: 3, partition_keys: ['region'], time_partitioned: true,
                  latest: version() };
    expect(artifactMeta(row, now)).toBe('3 versions · keys: region, time_partition · newest 2m ago');
    expect(artifactMeta({ ...row, versions: 1, partition_keys: [], time_partitioned: false }, now)).toBe(
      '1 version · no partitions · newest 2m ago'
    );
  });

  it('splits an execution’s uses by node, the execution’s own (query defaults, triggers) under null', () => {
    const use = (node_path: string, how: ArtifactUse['how']): ArtifactUse => ({ artifact: version(), node_path, port: 'o0', how });
    const all = { emitted: [use('n0', 'emitted'), use('n1', 'cache_hit')], consumed: [use('', 'query'), use('n1', 'query')] };
    expect(usesOf(all, 'n1')).toEqual({ emitted: [all.emitted[1]], consumed: [all.consumed[1]] });
    expect(usesOf(all, '')).toEqual({ emitted: [], consumed: [all.consumed[0]] });
  });

  it('the load snippet names the version’s URI', () => {
    expect(loadSnippet('plait://default/development/model@3f2a')).toBe(
      'import plait\n\nartifact = plait.Remote().get_artifact("plait://default/development/model@3f2a")'
    );
  });
});
