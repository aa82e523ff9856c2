/**
 * One artifact version in the main area: what it is (type, partitions, time
 * partition), where it came from (the producing execution and node, a link to
 * the execution view), where it is stored, its value, its model and data cards
 * rendered as Markdown, how to load it in a notebook, and its lineage drawn by
 * the DAG renderer: executions and artifact versions as nodes, a click opens
 * the execution's or the version's view.
 */
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { DagView } from '../dag/DagView';
import { formatTime } from '../format';
import { Values } from '../execution/Values';
import { getLineage, getVersion, type Scope } from './api';
import { artifactNodeId, lineageDag, lineagePhases, neighbours, targetOf, versionLabel } from './lineage';
import type { MarkdownRenderer } from './markdown';
import { partitionText } from './search';
import type { ArtifactCard, ArtifactVersion, Lineage, LineageNode } from './types';

export interface ArtifactViewProps {
  client: PlaitClient;
  name: string;
  version: string;
  scope?: Scope;
  onOpenExecution: (id: string) => void;
  onOpenArtifact: (name: string, version: string, scope: Scope) => void;
  /** Renders a card's Markdown into an element (JupyterLab's renderer); without it the text is shown as is. */
  renderMarkdown?: MarkdownRenderer;
  /** Called once the version is read (the tab's caption follows it). */
  onLoaded?: (version: ArtifactVersion) => void;
}

const DEPTHS = [1, 2, 3, 4, 5];
const CARD_TITLE: Record<string, string> = { model: 'Model card', data: 'Data card' };

/** How to load a version in a notebook or script. */
export function loadSnippet(uri: string): string {
  return `import plait\n\nartifact = plait.Remote().get_artifact(${JSON.stringify(uri)})`;
}

type Loaded<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; value: T };

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function ArtifactView(props: ArtifactViewProps): JSX.Element {
  const { client, name, version } = props;
  const project = props.scope?.project;
  const domain = props.scope?.domain;
  const [loaded, setLoaded] = React.useState<Loaded<ArtifactVersion>>({ state: 'loading' });
  const { onLoaded } = props;

  React.useEffect(() => {
    let live = true;
    setLoaded({ state: 'loading' });
    getVersion(client, name, version, { project, domain })
      .then(v => {
        if (live) {
          setLoaded({ state: 'done', value: v });
          onLoaded?.(v);
        }
      })
      .catch(e => live && setLoaded({ state: 'error', message: messageOf(e) }));
    return () => {
      live = false;
    };
  }, [client, name, version, project, domain]);

  if (loaded.state !== 'done') {
    return (
      <div className="plait-ArtifactView">
        {loaded.state === 'error' ? (
          <p role="alert" className="plait-Error">
            Artifact {name}@{version}: {loaded.message}
          </p>
        ) : (
          <p className="plait-Muted">
            Loading artifact {name}@{version}…
          </p>
        )}
      </div>
    );
  }
  const v = loaded.value;
  return (
    <div className="plait-ArtifactView" role="region" aria-label={`Artifact ${v.name} version ${v.version}`}>
      <header className="plait-ViewHeader">
        <div>
          <div className="plait-Kicker">Artifact</div>
          <h1>{v.name}</h1>
          <div className="plait-ArtifactView-sub">
            version {v.version} · {v.project}/{v.domain}
          </div>
        </div>
      </header>
      <Facts version={v} onOpenExecution={props.onOpenExecution} />
      <div className="plait-Section">
        <Values client={client} title="Value" of={`${v.name}@${v.version}`} values={{ [v.name]: v.value }} />
      </div>
      {v.cards.map((card, i) => (
        <Card key={i} card={card} render={props.renderMarkdown} />
      ))}
      <Snippet uri={v.uri} />
      <LineageSection
        client={client}
        version={v}
        onOpenExecution={props.onOpenExecution}
        onOpenArtifact={props.onOpenArtifact}
      />
    </div>
  );
}

// ------------------------------------------------------------------ facts

function Facts(props: { version: ArtifactVersion; onOpenExecution: (id: string) => void }): JSX.Element {
  const { version: v } = props;
  const partitions = partitionText(v.partitions);
  const stored = typeof v.value?.uri === 'string' ? (v.value.uri as string) : null;
  const producer = v.producer;
  return (
    <dl className="plait-ArtifactView-facts" aria-label="About this version">
      <dt>Type</dt>
      <dd>
        <code>{v.type_name}</code>
      </dd>
      <dt>Partitions</dt>
      <dd>{partitions || <span className="plait-ArtifactView-none">none</span>}</dd>
      <dt>Time partition</dt>
      <dd>
        {v.time_partition ? (
          <>
            {v.time_partition}
            {v.granularity ? <span className="plait-ArtifactView-none"> ({v.granularity.toLowerCase()})</span> : null}
          </>
        ) : (
          <span className="plait-ArtifactView-none">none</span>
        )}
      </dd>
      <dt>Producer</dt>
      <dd>
        {producer ? (
          <>
            execution{' '}
            <button
              type="button"
              className="plait-Link"
              title={`Open execution ${producer.execution_id}`}
              onClick={() => props.onOpenExecution(producer.execution_id)}
            >
              {producer.execution_id}
            </button>
            {producer.node_path ? `, node ${producer.node_path}` : ''}
            {producer.task ? ` (${producer.task}${producer.output ? ` → ${producer.output}` : ''})` : ''}
          </>
        ) : (
          <span className="plait-ArtifactView-none">created through the API</span>
        )}
      </dd>
      <dt>Created</dt>
      <dd>{formatTime(v.created_at)}</dd>
      <dt>URI</dt>
      <dd>
        <code>{v.uri}</code>
      </dd>
      <dt>Stored at</dt>
      <dd>{stored ? <code>{stored}</code> : <span className="plait-ArtifactView-none">inline (a literal)</span>}</dd>
    </dl>
  );
}

// ------------------------------------------------------------------ cards

/** A model or data card: its Markdown rendered by JupyterLab (sanitised), or as text without a renderer. */
function Card(props: { card: ArtifactCard; render?: MarkdownRenderer }): JSX.Element {
  const { card, render } = props;
  const host = React.useRef<HTMLDivElement>(null);
  const [failed, setFailed] = React.useState<string | null>(null);
  React.useEffect(() => {
    const el = host.current;
    if (!render || !el) {
      return;
    }
    let live = true;
    let dispose: (() => void) | null = null;
    render(card.text, el).then(
      done => {
        if (live) {
          dispose = done;
        } else {
          done();
        }
      },
      e => live && setFailed(messageOf(e))
    );
    return () => {
      live = false;
      dispose?.();
    };
  }, [card.text, render]);
  const title = CARD_TITLE[card.kind] ?? `${card.kind} card`;
  return (
    <section aria-label={title} className="plait-Section plait-ArtifactCard">
      <h2>{title}</h2>
      {failed && (
        <p role="alert" className="plait-Error">
          The card could not be rendered: {failed}
        </p>
      )}
      {render && !failed ? (
        <div ref={host} className="plait-ArtifactCard-body" />
      ) : (
        <pre className="plait-ArtifactCard-text">{card.text}</pre>
      )}
    </section>
  );
}

// ------------------------------------------------------------------ snippet

function Snippet({ uri }: { uri: string }): JSX.Element {
  const code = loadSnippet(uri);
  const [copied, setCopied] = React.useState(false);
  React.useEffect(() => {
    if (!copied) {
      return;
    }
    const t = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <section aria-label="Load it" className="plait-Section plait-ArtifactSnippet">
      <h2>Load it</h2>
      <pre>
        <code>{code}</code>
      </pre>
      <button
        type="button"
        className="jp-Button jp-mod-styled"
        title="Copy the code"
        onClick={() => {
          const copy = navigator.clipboard?.writeText(code) ?? Promise.reject(new Error('no clipboard'));
          copy.then(
            () => setCopied(true),
            () => window.prompt('Copy the code', code)
          );
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </section>
  );
}

// ------------------------------------------------------------------ lineage

function NodeLink(props: { node: LineageNode; onOpen: (node: LineageNode) => void }): JSX.Element {
  const { node } = props;
  const text =
    node.kind === 'execution'
      ? `${node.execution_id}${node.entity_name ? ` (${node.entity_name})` : ''}`
      : versionLabel(node.name ?? '?', node.version ?? '');
  return (
    <button type="button" className="plait-Link" onClick={() => props.onOpen(node)}>
      {text}
    </button>
  );
}

function LineageSection(props: {
  client: PlaitClient;
  version: ArtifactVersion;
  onOpenExecution: (id: string) => void;
  onOpenArtifact: (name: string, version: string, scope: Scope) => void;
}): JSX.Element {
  const { client, version: v } = props;
  const [depth, setDepth] = React.useState(2);
  const [lineage, setLineage] = React.useState<Loaded<Lineage>>({ state: 'loading' });
  React.useEffect(() => {
    let live = true;
    setLineage({ state: 'loading' });
    getLineage(client, v.name, v.version, depth, { project: v.project, domain: v.domain })
      .then(value => live && setLineage({ state: 'done', value }))
      .catch(e => live && setLineage({ state: 'error', message: messageOf(e) }));
    return () => {
      live = false;
    };
  }, [client, v.name, v.version, v.project, v.domain, depth]);

  const focus = artifactNodeId(v.name, v.version);
  const graph = lineage.state === 'done' ? lineage.value : null;
  const dag = React.useMemo(() => (graph ? lineageDag(graph, v) : null), [graph, v.name, v.version]);
  const phases = React.useMemo(() => (graph ? lineagePhases(graph) : undefined), [graph]);
  const near = React.useMemo(() => (graph ? neighbours(graph, focus) : null), [graph, focus]);
  const scope = { project: v.project, domain: v.domain };
  const open = (node: LineageNode) => {
    if (!graph) {
      return;
    }
    const target = targetOf(graph, node.id);
    if (target?.kind === 'execution') {
      props.onOpenExecution(target.id);
    } else if (target && node.id !== focus) {
      props.onOpenArtifact(target.name, target.version, {
        project: target.project ?? scope.project,
        domain: target.domain ?? scope.domain
      });
    }
  };

  return (
    <section aria-label="Lineage" className="plait-Section plait-ArtifactLineage">
      <div className="plait-ArtifactLineage-head">
        <h2>Lineage</h2>
        <label className="plait-ArtifactLineage-depth">
          Depth{' '}
          <select aria-label="Lineage depth" value={depth} onChange={e => setDepth(Number(e.target.value))}>
            {DEPTHS.map(d => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
      </div>
      {lineage.state === 'error' && (
        <p role="alert" className="plait-Error">
          The lineage could not be loaded: {lineage.message}
        </p>
      )}
      {lineage.state === 'loading' && <p className="plait-Muted">Loading the lineage…</p>}
      {near && (
        <p className="plait-ArtifactLineage-summary">
          {near.producers.length > 0 ? (
            <>
              Made by{' '}
              {near.producers.map((n, i) => (
                <React.Fragment key={n.id}>
                  {i > 0 && ', '}
                  <NodeLink node={n} onOpen={open} />
                </React.Fragment>
              ))}
              .{' '}
            </>
          ) : null}
          {near.consumers.length > 0 ? (
            <>
              Read by{' '}
              {near.consumers.map((n, i) => (
                <React.Fragment key={n.id}>
                  {i > 0 && ', '}
                  <NodeLink node={n} onOpen={open} />
                </React.Fragment>
              ))}
              .
            </>
          ) : (
            'No execution has read it yet.'
          )}
        </p>
      )}
      {dag && graph && (
        <div className="plait-ArtifactLineage-graph">
          <DagView
            dag={dag}
            phases={phases}
            selected={focus}
            onSelectNode={id => {
              const node = graph.nodes.find(n => n.id === id);
              if (node) {
                open(node);
              }
            }}
          />
        </div>
      )}
    </section>
  );
}
