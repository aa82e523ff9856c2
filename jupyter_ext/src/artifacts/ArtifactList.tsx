/**
 * The sidebar's Artifacts tab: a search box (name words and `key=value`
 * partition filters), one row per artifact name (versions, partition keys,
 * the newest version's time), and under a name opened with a click its
 * versions, newest first, each opening the artifact view; the execution that
 * produced a version opens the execution view.
 */
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { ago, formatTime } from '../format';
import { listVersions, searchArtifacts, type ArtifactRow } from './api';
import { parseSearch, partitionParams, partitionText } from './search';
import type { ArtifactVersion } from './types';

export interface ArtifactListProps {
  client: PlaitClient;
  /** Bumped by the sidebar to reload (on refresh). */
  generation: number;
  onOpenArtifact: (name: string, version: string, scope: { project: string; domain: string }) => void;
  onOpenExecution: (id: string) => void;
}

const VERSIONS_PAGE = 20;

/** A row's second line: versions, partition keys, when the newest version was made. */
export function artifactMeta(row: ArtifactRow, now?: number): string {
  const keys = [...row.partition_keys, ...(row.time_partitioned ? ['time_partition'] : [])];
  const parts = [`${row.versions} version${row.versions === 1 ? '' : 's'}`];
  parts.push(keys.length ? `keys: ${keys.join(', ')}` : 'no partitions');
  if (row.matching) {
    parts.push(`matching ${ago(row.matching.created_at, now)}`);
  } else {
    parts.push(`newest ${ago(row.latest.created_at, now)}`);
  }
  return parts.join(' · ');
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function ArtifactList(props: ArtifactListProps): JSX.Element {
  const { client } = props;
  const [text, setText] = React.useState('');
  const search = React.useMemo(() => parseSearch(text), [text]);
  const [rows, setRows] = React.useState<ArtifactRow[] | null>(null);
  const [truncated, setTruncated] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const [open, setOpen] = React.useState<string | null>(null);
  // The query the rows answer: a typing pause (or a refresh) asks again.
  const key = JSON.stringify([search.name, search.partitions]);

  React.useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      searchArtifacts(client, search, controller.signal)
        .then(found => {
          setRows(found.rows);
          setTruncated(found.truncated);
          setError(null);
        })
        .catch((e: Error) => {
          if (e.name !== 'AbortError') {
            setError(e.message);
          }
        });
    }, 150);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [client, key, props.generation]);

  const filtered = Object.keys(search.partitions).length > 0;
  return (
    <div className="plait-ArtifactList">
      <div className="plait-ListControls">
        <input
          type="search"
          className="plait-Search"
          placeholder="Search: name key=value"
          aria-label="Search artifacts"
          title="Words match artifact names; key=value words match partitions (region=eu)"
          value={text}
          onChange={e => setText(e.target.value)}
        />
      </div>
      {search.problems.map(p => (
        <div key={p} role="status" className="plait-ArtifactList-problem">
          {p}
        </div>
      ))}
      {error && (
        <div role="alert" className="plait-Error">
          {error}
        </div>
      )}
      {rows === null && !error && <div className="plait-Muted">Loading artifacts…</div>}
      {rows !== null && rows.length === 0 && <EmptyArtifacts text={text} filtered={filtered} />}
      <ul className="plait-Rows" aria-label="Artifacts">
        {rows?.map(row => {
          const id = `${row.project}/${row.domain}/${row.name}`;
          const expanded = open === id;
          return (
            <li key={id} className="plait-Row plait-ArtifactRow">
              <button
                className="plait-RowMain"
                aria-expanded={expanded}
                aria-label={`Artifact ${row.name}`}
                title={`${row.name} (${row.project}/${row.domain})`}
                onClick={() => setOpen(expanded ? null : id)}
              >
                <span className="plait-RowName">{row.name}</span>
                <span className="plait-RowMeta">{artifactMeta(row)}</span>
              </button>
              {expanded && (
                <VersionList
                  client={client}
                  row={row}
                  partitions={search.partitions}
                  generation={props.generation}
                  onOpenArtifact={props.onOpenArtifact}
                  onOpenExecution={props.onOpenExecution}
                />
              )}
            </li>
          );
        })}
      </ul>
      {truncated && (
        <div className="plait-Muted" role="status">
          More artifacts match: narrow the search to see them.
        </div>
      )}
    </div>
  );
}

/** What an empty list means: nothing emitted yet, or nothing matching the search. */
function EmptyArtifacts(props: { text: string; filtered: boolean }): JSX.Element {
  if (props.text.trim()) {
    return (
      <div className="plait-Empty" role="status">
        <p>No artifacts match “{props.text.trim()}”.</p>
        <p>
          Words match any part of a name; <code>key=value</code> keeps the artifacts with a version in that
          partition{props.filtered ? '' : ' (region=eu)'}.
        </p>
      </div>
    );
  }
  return (
    <div className="plait-Empty" role="status">
      <p>No artifacts yet.</p>
      <p>
        A task makes a version of an artifact each time it succeeds when its output is annotated with one (
        <code>{'Annotated[int, plait.Artifact(name="n")]'}</code>) or it returns <code>A.create_from(value)</code>.
      </p>
    </div>
  );
}

type Versions = { state: 'loading' } | { state: 'error'; message: string } | {
  state: 'done';
  items: ArtifactVersion[];
  next: number | null;
};

/** An artifact's versions, newest first (only those in the searched partitions), a page at a time. */
function VersionList(props: {
  client: PlaitClient;
  row: ArtifactRow;
  partitions: Record<string, string>;
  generation: number;
  onOpenArtifact: ArtifactListProps['onOpenArtifact'];
  onOpenExecution: (id: string) => void;
}): JSX.Element {
  const { client, row } = props;
  const { name, project, domain } = row;
  const partition = partitionParams(props.partitions);
  const [versions, setVersions] = React.useState<Versions>({ state: 'loading' });
  const [more, setMore] = React.useState(false);
  const key = partition.join('\n');

  React.useEffect(() => {
    const controller = new AbortController();
    setVersions({ state: 'loading' });
    listVersions(client, name, { partition, project, domain, limit: VERSIONS_PAGE }, controller.signal)
      .then(page => setVersions({ state: 'done', items: page.items, next: page.next_offset }))
      .catch((e: Error) => {
        if (e.name !== 'AbortError') {
          setVersions({ state: 'error', message: errorText(e) });
        }
      });
    return () => controller.abort();
  }, [client, name, project, domain, key, props.generation]);

  const loadMore = (offset: number, items: ArtifactVersion[]) => {
    setMore(true);
    listVersions(client, name, { partition, project, domain, limit: VERSIONS_PAGE, offset })
      .then(page => setVersions({ state: 'done', items: [...items, ...page.items], next: page.next_offset }))
      .catch((e: Error) => setVersions({ state: 'error', message: errorText(e) }))
      .finally(() => setMore(false));
  };

  if (versions.state === 'loading') {
    return <div className="plait-Muted">Loading versions of {name}…</div>;
  }
  if (versions.state === 'error') {
    return (
      <div role="alert" className="plait-Error">
        {versions.message}
      </div>
    );
  }
  return (
    <div className="plait-ArtifactVersions">
      <ul aria-label={`Versions of ${name}`}>
        {versions.items.map(v => (
          <li key={v.version} className="plait-ArtifactVersion">
            <div className="plait-ArtifactVersion-head">
              <button
                type="button"
                className="plait-Link plait-ArtifactVersion-id"
                aria-label={`Open ${name} version ${v.version}`}
                title={`Open ${v.uri}`}
                onClick={() => props.onOpenArtifact(name, v.version, { project, domain })}
              >
                {v.version}
              </button>
              <span className="plait-ArtifactVersion-when" title={formatTime(v.created_at)}>
                {ago(v.created_at)}
              </span>
            </div>
            <VersionFacts version={v} onOpenExecution={props.onOpenExecution} />
          </li>
        ))}
      </ul>
      {versions.items.length === 0 && <div className="plait-Muted">No versions in these partitions.</div>}
      {versions.next != null && (
        <button
          type="button"
          className="plait-Link plait-ArtifactVersions-more"
          disabled={more}
          onClick={() => loadMore(versions.next as number, versions.items)}
        >
          {more ? 'Loading…' : 'Older versions'}
        </button>
      )}
    </div>
  );
}

/** A version's partitions, time partition, creation time and producer, under its id. */
function VersionFacts(props: { version: ArtifactVersion; onOpenExecution: (id: string) => void }): JSX.Element {
  const { version: v } = props;
  const partitions = partitionText(v.partitions);
  return (
    <dl className="plait-ArtifactVersion-facts">
      {partitions && (
        <>
          <dt>partitions</dt>
          <dd>{partitions}</dd>
        </>
      )}
      {v.time_partition && (
        <>
          <dt>time</dt>
          <dd>
            {v.time_partition}
            {v.granularity ? ` (${v.granularity.toLowerCase()})` : ''}
          </dd>
        </>
      )}
      <dt>created</dt>
      <dd>{formatTime(v.created_at)}</dd>
      <dt>by</dt>
      <dd>
        {v.producer ? (
          <>
            <button
              type="button"
              className="plait-Link"
              title={`Open execution ${v.producer.execution_id}`}
              onClick={() => props.onOpenExecution(v.producer!.execution_id)}
            >
              {v.producer.execution_id}
            </button>
            {v.producer.node_path ? ` node ${v.producer.node_path}` : ''}
          </>
        ) : (
          'created through the API'
        )}
      </dd>
    </dl>
  );
}
