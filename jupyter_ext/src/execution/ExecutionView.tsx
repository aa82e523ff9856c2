/**
 * One execution, as the Flyte console shows it: a header (phase, entity,
 * timings, inputs, outputs, error, Relaunch and Abort), then Nodes, Graph and
 * Timeline tabs; a node opens a side panel with its attempts, logs, values,
 * task and resource use. Follows the execution live until it ends. A failed
 * execution opens on the node that failed, and its error links to that node's
 * log; closing the panel (Escape) puts focus back on the node it showed.
 *
 * "Run from here": nodes chosen in the table (checkbox, Ctrl/⌘+click, Space) or
 * the graph (Ctrl/⌘+click), or the node in the panel, are handed to
 * `onRunFrom` once the execution has ended; it opens the launch form in re-run
 * mode. A re-run's REUSED nodes link to the execution they were taken from.
 *
 * While gate nodes wait (WAITING) for a signal or an approval, a banner at the
 * top says what each waits for and until when, with a form to give it (the
 * node's panel has the same form); the view reads the execution again once a
 * value is sent.
 */
import * as React from 'react';

import type { Execution, PlaitClient, Schemas } from '../api/client';
import { ExecutionArtifactInputs, type OpenArtifact } from '../artifacts/ExecutionArtifacts';
import { DagView } from '../dag/DagView';
import { DashboardLink, useDashboard } from '../dashboard';
import type { Dag } from '../dag/types';
import { formatDuration, formatTime } from '../format';
import { isTerminal, phaseClass } from '../phases';
import { DashboardButton, type DashboardButtonProps } from '../apps/DashboardButton';
import type { Workspace } from '../workspaces/types';
import { abort, getDag, getExecution, getNodes, listSignals, messageOf, relaunch } from './api';
import {
  errorView,
  executionDuration,
  failedNodePath,
  follow,
  Follower,
  isHiddenElement,
  nodeTree,
  NodeRun,
  phaseByPath,
  progressKey,
  revealPath,
  TreeRow,
  visibleRows,
  wrapPoints
} from './model';
import { ErrorBox, NodePanel, PanelFocus } from './NodePanel';
import { NodeTable } from './NodeTable';
import { WaitingBanner } from './SignalForm';
import { Signal, waitingSignals } from './signals';
import { Timeline } from './Timeline';
import { Values } from './Values';

export interface ExecutionViewProps {
  client: PlaitClient;
  executionId: string;
  onOpenExecution?: (id: string) => void;
  onOpenWorkflow?: (name: string, version?: string) => void;
  /** Where the lab serves the Dask dashboard: linked from the header, and workers' pages from the node panel. */
  dashboardUrl?: string;
  /** The execution's shareable lab address: a "Copy link" button copies it. */
  shareUrl?: string;
  /** Called when the execution is read and when its phase changes (the tab's title follows it). */
  onLoaded?: (execution: Execution) => void;
  /** "Relaunch with changes": open the launch form filled from this execution (no button without it). */
  onRelaunchWithChanges?: (execution: Execution) => void;
  /** "Run from here": re-run the ended execution from these node paths (no choosing of nodes without it). */
  onRunFrom?: (execution: Execution, fromNodes: string[]) => void;
  /** Opens an artifact version's view (the artifacts the execution and its nodes emitted and consumed). */
  onOpenArtifact?: OpenArtifact;
  /** Opens a workspace's view: a failed node's "Debug in a workspace" makes one and opens it (no button without it). */
  onOpenWorkspace?: (ws: Workspace) => void;
  /** "Dashboard" on a SUCCEEDED execution: deploy a dashboard of its outputs as an app (no button without it). */
  dashboardApp?: Omit<DashboardButtonProps, 'executionId'>;
}

const TABS = ['Nodes', 'Graph', 'Timeline'] as const;
type Tab = (typeof TABS)[number];

/** The clock for live durations: ticks every second while `live`. */
function useNow(live: boolean): number {
  const [now, setNow] = React.useState(() => Date.now());
  React.useEffect(() => {
    if (!live) {
      setNow(Date.now());
      return;
    }
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [live]);
  return now;
}

export function ExecutionView(props: ExecutionViewProps): JSX.Element {
  const { client, executionId } = props;
  const [execution, setExecution] = React.useState<Execution | null>(null);
  const [nodes, setNodes] = React.useState<NodeRun[]>([]);
  // The signals the gates opened: read with the nodes while some node is WAITING.
  const [signals, setSignals] = React.useState<Signal[]>([]);
  const [loadError, setLoadError] = React.useState<string | null>(null);
  const [tab, setTab] = React.useState<Tab>('Nodes');
  const [selected, setSelected] = React.useState<string | null>(null);
  // Where the node panel puts focus when it opens, and a count that asks it again.
  const [panelFocus, setPanelFocus] = React.useState<{ to: PanelFocus; seq: number }>({ to: 'heading', seq: 0 });
  const [toggled, setToggled] = React.useState<ReadonlySet<string>>(new Set());
  // The nodes chosen to run again, in the order they were chosen.
  const [picked, setPicked] = React.useState<ReadonlySet<string>>(new Set());
  const follower = React.useRef<Follower | null>(null);
  const root = React.useRef<HTMLDivElement>(null);
  // The node whose panel was just closed: focus goes back to it in the open tab.
  const closedPath = React.useRef<string | null>(null);

  /** Open a node's panel, opening the groups it is in, and put focus where `to` says. */
  const select = React.useCallback((path: string, to: PanelFocus = 'heading', rows?: readonly TreeRow[]) => {
    if (rows) {
      setToggled(prev => revealPath(rows, prev, path));
    }
    setSelected(path);
    setPanelFocus(f => ({ to, seq: f.seq + 1 }));
  }, []);

  React.useEffect(() => {
    setExecution(null);
    setNodes([]);
    setSignals([]);
    setSelected(null);
    setPicked(new Set());
    setLoadError(null);
    let first = true;
    const f = follow({
      name: `plait:execution:${executionId}`,
      fetch: async () => {
        const [e, n] = await Promise.all([getExecution(client, executionId), getNodes(client, executionId)]);
        const s = n.some(node => node.phase === 'WAITING') ? await listSignals(client, executionId) : [];
        return [e, n, s] as const;
      },
      onData: ([e, n, s]) => {
        setExecution(e);
        setNodes(n);
        setSignals(s);
        setLoadError(null);
        // A failed execution opens on the node that failed (without taking focus from where the user is).
        const failed = first ? failedNodePath(e, n) : null;
        first = false;
        if (failed) {
          select(failed, 'none', nodeTree(n));
        }
      },
      done: ([e]) => isTerminal(e.phase),
      key: ([e, n, s]) => progressKey(e, n) + s.map(x => (x.is_set ? '+' : '-')).join(''),
      onError: error => setLoadError(messageOf(error)),
      hidden: () => isHiddenElement(root.current)
    });
    follower.current = f;
    return () => {
      f.dispose();
      follower.current = null;
    };
  }, [client, executionId]);

  const live = execution !== null && !isTerminal(execution.phase);
  const now = useNow(live);
  const tree = React.useMemo(() => nodeTree(nodes), [nodes]);
  const rows = React.useMemo(() => visibleRows(tree, toggled), [tree, toggled]);
  const selectedNode = selected === null ? undefined : nodes.find(n => n.path === selected);
  const failedPath = React.useMemo(() => (execution ? failedNodePath(execution, nodes) : null), [execution, nodes]);
  const dashboard = useDashboard(client, props.dashboardUrl);
  const waiting = React.useMemo(() => waitingSignals(signals, nodes), [signals, nodes]);
  const refresh = React.useCallback(() => follower.current?.refresh(), []);

  // After Escape or × closed the panel, focus returns to the node's row (or graph node, or bar) in the open tab.
  React.useEffect(() => {
    const path = closedPath.current;
    if (selected !== null || path === null) {
      return;
    }
    closedPath.current = null;
    const panel = root.current?.querySelector('.plait-ExecutionView-tabpanel');
    const at = [...(panel?.querySelectorAll<HTMLElement | SVGElement>('[data-path]') ?? [])].find(
      el => el.getAttribute('data-path') === path
    );
    const focusable = at && at.tabIndex >= 0 ? at : at?.querySelector<HTMLElement | SVGElement>('[tabindex="0"]');
    // Not shown in this tab (inside a collapsed group or subworkflow): the tab itself.
    (focusable ?? root.current?.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]'))?.focus();
  }, [selected]);
  const { onLoaded } = props;
  React.useEffect(() => {
    if (execution) {
      onLoaded?.(execution);
    }
  }, [execution?.id, execution?.phase, onLoaded]);

  if (!execution) {
    return (
      <div className="plait-ExecutionView" ref={root}>
        {loadError ? (
          <p role="alert" className="plait-ExecutionView-error">
            Execution {executionId}: {loadError}
          </p>
        ) : (
          <p className="plait-ExecutionView-muted">Loading execution {executionId}…</p>
        )}
      </div>
    );
  }

  const flip = (prev: ReadonlySet<string>, path: string): ReadonlySet<string> => {
    const next = new Set(prev);
    if (!next.delete(path)) {
      next.add(path);
    }
    return next;
  };
  const toggle = (path: string) => setToggled(prev => flip(prev, path));
  const { onRunFrom } = props;
  const pick = onRunFrom ? (path: string) => setPicked(prev => flip(prev, path)) : undefined;
  const runFrom = onRunFrom ? (paths: string[]) => onRunFrom(execution, paths) : undefined;

  return (
    <div className="plait-ExecutionView" ref={root}>
      <div className="plait-ExecutionView-main">
        <Header
          {...props}
          execution={execution}
          now={now}
          dashboard={dashboard}
          onAborted={refresh}
          showLog={failedPath ? { path: failedPath, onShow: () => select(failedPath, 'log', tree) } : undefined}
          banner={
            <WaitingBanner
              client={client}
              executionId={execution.id}
              signals={waiting}
              now={now}
              onSent={refresh}
              onShowNode={path => select(path, 'heading', tree)}
            />
          }
        />
        {loadError && (
          <p role="alert" className="plait-ExecutionView-error-text">
            Could not refresh: {loadError}
          </p>
        )}
        <Tabs tab={tab} onTab={setTab}>
          {runFrom && tab !== 'Timeline' && (
            <RunFromBar
              picked={[...picked]}
              ended={isTerminal(execution.phase)}
              graph={tab === 'Graph'}
              onRun={runFrom}
              onClear={() => setPicked(new Set())}
            />
          )}
          {tab === 'Nodes' && (
            <NodeTable
              rows={rows}
              toggled={toggled}
              onToggle={toggle}
              selected={selected}
              onSelect={select}
              now={now}
              picked={picked}
              onPick={pick}
            />
          )}
          {tab === 'Graph' && (
            <Graph
              client={client}
              execution={execution}
              nodes={nodes}
              selected={selected}
              onSelect={select}
              picked={picked}
              onPick={pick}
            />
          )}
          {tab === 'Timeline' && (
            <Timeline execution={execution} rows={rows} now={now} selected={selected} onSelect={select} />
          )}
        </Tabs>
      </div>
      {selectedNode && (
        <NodePanel
          key={selectedNode.path}
          client={client}
          execution={execution}
          node={selectedNode}
          signal={signals.find(s => s.node_path === selectedNode.path)}
          onSignalSent={refresh}
          now={now}
          dashboardUrl={dashboard ? props.dashboardUrl : undefined}
          focus={panelFocus.to}
          focusSeq={panelFocus.seq}
          onOpenExecution={props.onOpenExecution}
          onOpenArtifact={props.onOpenArtifact}
          onOpenWorkspace={props.onOpenWorkspace}
          onRunFrom={runFrom && isTerminal(execution.phase) ? () => runFrom([selectedNode.path]) : undefined}
          onClose={() => {
            closedPath.current = selectedNode.path;
            setSelected(null);
          }}
        />
      )}
    </div>
  );
}

// ------------------------------------------------------------------ header

function entityText(ref: Schemas['EntityRef']): string {
  return `${ref.name}${ref.version ? ` @ ${ref.version}` : ''}`;
}

/** Text that may wrap after `.`, `-`, `/`, `@` and `_` (long names, versions and ids), not mid-word. */
function Breakable({ text }: { text: string }): JSX.Element {
  return (
    <>
      {wrapPoints(text).map((part, i) => (
        <React.Fragment key={i}>
          {i > 0 && <wbr />}
          {part}
        </React.Fragment>
      ))}
    </>
  );
}

/** "Copy link": the execution's lab address to the clipboard, saying "Copied" for a moment. */
function CopyLink({ url }: { url: string }): JSX.Element {
  const [copied, setCopied] = React.useState(false);
  React.useEffect(() => {
    if (!copied) {
      return;
    }
    const t = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <button
      type="button"
      className="jp-Button jp-mod-styled"
      title={`Copy this execution's link: ${url}`}
      onClick={() => {
        // The clipboard API needs a secure context (https or localhost); elsewhere the link is shown to copy.
        const copy = navigator.clipboard?.writeText(url) ?? Promise.reject(new Error('no clipboard'));
        copy.then(
          () => setCopied(true),
          () => window.prompt('Copy this execution’s link', url)
        );
      }}
    >
      {copied ? 'Copied' : 'Copy link'}
    </button>
  );
}

/** What an ABORTED error says after "aborted": the reason given, else who asked. */
function abortReason(message: string): string {
  const reason = message.match(/^aborted: (.*)$/s);
  return reason ? reason[1] : message.replace(/^aborted /, '');
}

function Header(
  props: ExecutionViewProps & {
    execution: Execution;
    now: number;
    dashboard: boolean;
    onAborted: () => void;
    /** The failed node the error banner links to the log of. */
    showLog?: { path: string; onShow: () => void };
    /** What the execution's waiting gates wait for, under its title. */
    banner?: React.ReactNode;
  }
): JSX.Element {
  const { client, execution, onOpenExecution, onOpenWorkflow } = props;
  const terminal = isTerminal(execution.phase);
  const [busy, setBusy] = React.useState<'relaunch' | 'abort' | null>(null);
  const [confirming, setConfirming] = React.useState(false);
  const [reason, setReason] = React.useState('');
  const [actionError, setActionError] = React.useState<string | null>(null);
  const confirmButton = React.useRef<HTMLButtonElement>(null);
  const error = errorView(execution.error);
  React.useEffect(() => {
    if (confirming) {
      confirmButton.current?.focus();
    }
  }, [confirming]);

  const doRelaunch = async () => {
    setBusy('relaunch');
    setActionError(null);
    try {
      const fresh = await relaunch(client, execution.id);
      onOpenExecution?.(fresh.id);
    } catch (e) {
      setActionError(`Relaunch failed: ${messageOf(e)}`);
    } finally {
      setBusy(null);
    }
  };
  const doAbort = async () => {
    setConfirming(false);
    setBusy('abort');
    setActionError(null);
    try {
      await abort(client, execution.id, reason);
      props.onAborted();
    } catch (e) {
      setActionError(`Abort failed: ${messageOf(e)}`);
    } finally {
      setBusy(null);
    }
  };

  const { entity } = execution;
  return (
    <section className="plait-ExecutionView-header" aria-label={`Execution ${execution.id}`}>
      <div className="plait-ExecutionView-title">
        <h2>{execution.id}</h2>
        <span
          className={`plait-Badge plait-ExecutionView-badge plait-ExecutionView-status ${phaseClass(execution.phase)}`}
          role="status"
          aria-label="Execution phase"
        >
          {execution.phase}
        </span>
        {execution.abort_requested && !terminal && <span className="plait-ExecutionView-muted">aborting…</span>}
        <span className="plait-ExecutionView-actions">
          {props.dashboard && props.dashboardUrl && <DashboardLink url={props.dashboardUrl} />}
          {props.shareUrl && <CopyLink url={props.shareUrl} />}
          {props.dashboardApp && execution.phase === 'SUCCEEDED' && (
            <DashboardButton executionId={execution.id} {...props.dashboardApp} />
          )}
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-reject"
            disabled={terminal || busy !== null || execution.abort_requested}
            onClick={() => setConfirming(true)}
          >
            Abort
          </button>
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-accept"
            disabled={busy !== null}
            onClick={() => void doRelaunch()}
          >
            Relaunch
          </button>
          {props.onRelaunchWithChanges && (
            <button
              type="button"
              className="jp-Button jp-mod-styled"
              title="Open the launch form with this execution's inputs and settings"
              onClick={() => props.onRelaunchWithChanges?.(execution)}
            >
              Relaunch with changes
            </button>
          )}
        </span>
      </div>
      {confirming && !terminal && (
        <div role="alertdialog" aria-label={`Abort ${execution.id}?`} className="plait-ExecutionView-confirm">
          <span>Abort {execution.id}? Running nodes are stopped and the rest are not started.</span>
          <form
            className="plait-ExecutionView-confirm-form"
            onSubmit={e => {
              e.preventDefault();
              void doAbort();
            }}
            onKeyDown={e => {
              if (e.key === 'Escape') {
                setConfirming(false);
              }
            }}
          >
            <input
              type="text"
              className="jp-mod-styled plait-ExecutionView-reason"
              aria-label="Reason (optional)"
              placeholder="Reason (optional)"
              maxLength={1000}
              value={reason}
              onChange={e => setReason(e.target.value)}
            />
            <button ref={confirmButton} type="submit" className="jp-Button jp-mod-styled jp-mod-warn">
              Confirm
            </button>
            <button type="button" className="jp-Button jp-mod-styled" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </form>
        </div>
      )}
      {actionError && (
        <p role="alert" className="plait-ExecutionView-error-text">
          {actionError}
        </p>
      )}
      {props.banner}
      <dl className="plait-ExecutionView-facts">
        <dt>{entity.kind === 'task' ? 'Task' : 'Workflow'}</dt>
        <dd>
          {entity.kind === 'workflow' && onOpenWorkflow ? (
            <button
              type="button"
              className="plait-Link"
              title={`Open workflow ${entity.name}`}
              onClick={() => onOpenWorkflow(entity.name, entity.version || undefined)}
            >
              <Breakable text={entityText(entity)} />
            </button>
          ) : (
            <Breakable text={entityText(entity)} />
          )}
        </dd>
        <dt>Launch plan</dt>
        <dd>{execution.launch_plan ? <Breakable text={entityText(execution.launch_plan)} /> : '—'}</dd>
        <dt>Project</dt>
        <dd>
          {execution.project} / {execution.domain}
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(execution.started_at)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(executionDuration(execution, props.now))}</dd>
        {execution.rerun_of && (
          <>
            <dt>Re-run of</dt>
            <dd>
              {onOpenExecution ? (
                <button
                  type="button"
                  className="plait-Link"
                  title={`Open execution ${execution.rerun_of.execution_id}`}
                  onClick={() => onOpenExecution(execution.rerun_of!.execution_id)}
                >
                  <Breakable text={execution.rerun_of.execution_id} />
                </button>
              ) : (
                <Breakable text={execution.rerun_of.execution_id} />
              )}
              {` from ${execution.rerun_of.from_nodes.join(', ')}`}
            </dd>
          </>
        )}
        {execution.parent_execution_id && (
          <>
            <dt>Parent</dt>
            <dd>
              {onOpenExecution ? (
                <button
                  type="button"
                  className="plait-Link"
                  onClick={() => onOpenExecution(execution.parent_execution_id as string)}
                >
                  <Breakable text={execution.parent_execution_id} />
                </button>
              ) : (
                <Breakable text={execution.parent_execution_id} />
              )}
              {execution.parent_node_path ? ` (node ${execution.parent_node_path})` : ''}
            </dd>
          </>
        )}
      </dl>
      {error &&
        (error.kind === 'ABORTED' ? (
          <p role="status" aria-label="Aborted" className="plait-ExecutionView-error plait-ExecutionView-aborted">
            <strong>Aborted</strong>: {abortReason(error.message)}
          </p>
        ) : (
          <ErrorBox error={error} showLog={props.showLog} />
        ))}
      <div className="plait-ExecutionView-io">
        <Values client={client} title="Inputs" values={execution.inputs} />
        <Values
          client={client}
          title="Outputs"
          values={execution.outputs}
          empty={terminal ? 'none' : 'not yet'}
        />
        <ExecutionArtifactInputs client={client} executionId={execution.id} onOpenArtifact={props.onOpenArtifact} />
      </div>
    </section>
  );
}

// ------------------------------------------------------------------ run from here

/**
 * Above the node table and the graph: which nodes are chosen to run again, how
 * to choose them, and "Run from here" (once the execution has ended).
 */
function RunFromBar(props: {
  picked: string[];
  ended: boolean;
  graph: boolean;
  onRun: (paths: string[]) => void;
  onClear: () => void;
}): JSX.Element {
  const { picked, ended } = props;
  const how = props.graph ? 'Ctrl/⌘+click nodes' : 'Tick nodes (or Ctrl/⌘+click, or Space on a row)';
  const why = !ended
    ? 'The execution has not ended: it can be run again from chosen nodes once it has'
    : picked.length === 0
      ? `${how} to choose where to run again from`
      : `Run ${picked.join(', ')} and the nodes after them again; the others take this execution's outputs`;
  return (
    <div role="group" aria-label="Run again" className="plait-ExecutionView-runFrom">
      <span className="plait-ExecutionView-muted" aria-live="polite">
        {picked.length === 0 ? `${how} to run them again.` : `Chosen: ${picked.join(', ')}`}
      </span>
      {picked.length > 0 && (
        <button type="button" className="jp-Button jp-mod-styled" onClick={props.onClear}>
          Clear
        </button>
      )}
      <button
        type="button"
        className="jp-Button jp-mod-styled jp-mod-accept"
        title={why}
        disabled={!ended || picked.length === 0}
        onClick={() => props.onRun(picked)}
      >
        Run from here
      </button>
    </div>
  );
}

// ------------------------------------------------------------------ tabs

function Tabs(props: { tab: Tab; onTab: (tab: Tab) => void; children: React.ReactNode }): JSX.Element {
  const id = React.useId();
  const refs = React.useRef<Array<HTMLButtonElement | null>>([]);
  const onKey = (e: React.KeyboardEvent, i: number) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    const to = e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : (i + step + TABS.length) % TABS.length;
    if (step || e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      props.onTab(TABS[to]);
      refs.current[to]?.focus();
    }
  };
  return (
    <div className="plait-ExecutionView-tabs">
      <div role="tablist" aria-label="Execution details" className="plait-ExecutionView-tablist">
        {TABS.map((t, i) => (
          <button
            key={t}
            ref={el => {
              refs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`${id}-tab-${t}`}
            aria-selected={props.tab === t}
            aria-controls={`${id}-panel`}
            tabIndex={props.tab === t ? 0 : -1}
            className={props.tab === t ? 'plait-ExecutionView-tab plait-mod-current' : 'plait-ExecutionView-tab'}
            onClick={() => props.onTab(t)}
            onKeyDown={e => onKey(e, i)}
          >
            {t}
          </button>
        ))}
      </div>
      <div
        role="tabpanel"
        id={`${id}-panel`}
        aria-labelledby={`${id}-tab-${props.tab}`}
        className="plait-ExecutionView-tabpanel"
      >
        {props.children}
      </div>
    </div>
  );
}

// ------------------------------------------------------------------ graph

type DagState = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; dag: Dag };

/** A task execution's graph: its nodes, side by side. */
function taskDag(execution: Execution, nodes: readonly NodeRun[]): Dag {
  const top = nodes.filter(n => !n.parent_path);
  return {
    version: 1,
    name: execution.entity.name,
    label: execution.entity.name,
    kind: 'task',
    inputs: [],
    outputs: [],
    edges: [],
    nodes: (top.length ? top : [{ path: 'n0', kind: 'task', entity_name: execution.entity.name }]).map(n => ({
      id: n.path,
      path: n.path,
      label: n.entity_name ?? execution.entity.name,
      entity: n.entity_name ?? execution.entity.name,
      kind: n.kind ?? 'task',
      inputs: [],
      outputs: []
    }))
  };
}

function Graph(props: {
  client: PlaitClient;
  execution: Execution;
  nodes: readonly NodeRun[];
  selected: string | null;
  onSelect: (path: string) => void;
  picked: ReadonlySet<string>;
  onPick?: (path: string) => void;
}): JSX.Element {
  const { client, execution } = props;
  const { kind, name, version } = execution.entity;
  const { project, domain } = execution;
  const [dag, setDag] = React.useState<DagState>({ state: 'loading' });
  React.useEffect(() => {
    if (kind === 'task') {
      return;
    }
    let live = true;
    setDag({ state: 'loading' });
    getDag(client, name, version || undefined, { project, domain })
      .then(bundle => live && setDag({ state: 'done', dag: bundle }))
      .catch(error => live && setDag({ state: 'error', message: messageOf(error) }));
    return () => {
      live = false;
    };
  }, [client, kind, name, version, project, domain]);

  const phases = React.useMemo(() => phaseByPath(props.nodes), [props.nodes]);
  const bundle = kind === 'task' ? taskDag(execution, props.nodes) : dag.state === 'done' ? dag.dag : null;
  if (!bundle) {
    return dag.state === 'error' ? (
      <p role="alert" className="plait-ExecutionView-error-text">
        Could not load the graph of {name}: {dag.message}
      </p>
    ) : (
      <p className="plait-ExecutionView-muted">Loading the graph of {name}…</p>
    );
  }
  return (
    <div className="plait-ExecutionView-graph">
      <DagView
        dag={bundle}
        phases={phases}
        selected={props.selected ?? undefined}
        onSelectNode={props.onSelect}
        picked={props.picked}
        onPickNode={props.onPick}
      />
    </div>
  );
}
