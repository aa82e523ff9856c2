/**
 * An artifact version's lineage (`GET artifacts/{name}/versions/{version}/lineage`)
 * as a DAG bundle, so the DAG renderer that draws workflows draws it too:
 * artifact versions and executions are nodes of kinds `artifact` and
 * `execution`, an execution points at what it produced and an artifact at the
 * executions that consumed it. Framework-free: no DOM, no React.
 */
import { describeType } from '../api/literals';
import { shortName } from '../format';
import type { Dag, DagEdge, DagNode } from '../dag/types';
import { partitionText } from './search';
import type { Lineage, LineageNode } from './types';

/** The node id of an artifact version in a lineage: `artifact:<name>@<version>`. */
export function artifactNodeId(name: string, version: string): string {
  return `artifact:${name}@${version}`;
}

/** The node id of an execution in a lineage: `execution:<id>`. */
export function executionNodeId(id: string): string {
  return `execution:${id}`;
}

/** What a click on a lineage node opens. */
export type LineageTarget =
  | { kind: 'artifact'; name: string; version: string; project?: string; domain?: string }
  | { kind: 'execution'; id: string };

/** The view a lineage node id stands for, read from the node itself (names may hold `@`). */
export function targetOf(lineage: Lineage, id: string): LineageTarget | null {
  const node = lineage.nodes.find(n => n.id === id);
  if (!node) {
    return null;
  }
  if (node.kind === 'execution') {
    return node.execution_id ? { kind: 'execution', id: node.execution_id } : null;
  }
  if (!node.name || !node.version) {
    return null;
  }
  const scope = { ...(node.project ? { project: node.project } : {}), ...(node.domain ? { domain: node.domain } : {}) };
  return { kind: 'artifact', name: node.name, version: node.version, ...scope };
}

/** `model@3f2a9c0d`: the name and the start of the version, enough to tell versions apart in a drawing. */
export function versionLabel(name: string, version: string): string {
  return `${name}@${version.slice(0, 8)}`;
}

function describe(node: LineageNode): string {
  if (node.kind === 'execution') {
    return [`execution ${node.execution_id}`, node.entity_name ?? ''].filter(Boolean).join(' of ');
  }
  const parts = [`${node.name}@${node.version}`];
  const partitions = partitionText(node.partitions);
  if (partitions) {
    parts.push(partitions);
  }
  if (node.time_partition) {
    parts.push(`time ${node.time_partition}`);
  }
  if (node.type) {
    parts.push(describeType(node.type));
  }
  return parts.join(' · ');
}

function labelOf(node: LineageNode): string {
  if (node.kind === 'execution') {
    const what = node.entity_name ? shortName(node.entity_name) : 'execution';
    return `${what} · ${node.execution_id ?? ''}`;
  }
  return versionLabel(node.name ?? '?', node.version ?? '');
}

function edgeLabel(kind: string, nodePath: string | null | undefined, port: string | null | undefined): string {
  const where = [nodePath, port].filter(Boolean).join('.');
  return where ? `${kind} (${where})` : kind;
}

/**
 * The lineage as a DAG bundle. Node paths are the lineage's node ids (what
 * `onSelectNode` hands back); edges between the same two nodes (an artifact
 * consumed by two inputs of one execution) are drawn once, their ports listed.
 */
export function lineageDag(lineage: Lineage, focus: { name: string; version: string }): Dag {
  const nodes: DagNode[] = lineage.nodes.map(n => ({
    id: n.id,
    path: n.id,
    label: labelOf(n),
    entity: describe(n),
    kind: n.kind,
    inputs: [],
    outputs: []
  }));
  const known = new Set(nodes.map(n => n.id));
  const byPair = new Map<string, DagEdge>();
  for (const e of lineage.edges) {
    if (!known.has(e.source) || !known.has(e.target) || e.source === e.target) {
      continue;
    }
    const key = `${e.source}\n${e.target}`;
    const label = edgeLabel(e.kind, e.node_path, e.port);
    const seen = byPair.get(key);
    if (seen) {
      if (!seen.label.split(', ').includes(label)) {
        seen.label = `${seen.label}, ${label}`;
      }
    } else {
      byPair.set(key, { source: e.source, target: e.target, kind: 'data', label });
    }
  }
  const label = `lineage of ${versionLabel(focus.name, focus.version)}`;
  return {
    version: 1,
    name: `${focus.name}@${focus.version}`,
    label,
    kind: 'artifact',
    inputs: [],
    outputs: [],
    nodes,
    edges: [...byPair.values()]
  };
}

/** Each execution's phase by its node id, for the renderer's phase colours. */
export function lineagePhases(lineage: Lineage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of lineage.nodes) {
    if (n.kind === 'execution' && n.phase) {
      out[n.id] = n.phase;
    }
  }
  return out;
}

/** The executions upstream (producers) and downstream (consumers) of the focus, for the text beside the graph. */
export function neighbours(
  lineage: Lineage,
  focusId: string
): { producers: LineageNode[]; consumers: LineageNode[] } {
  const byId = new Map(lineage.nodes.map(n => [n.id, n]));
  const producers = lineage.edges.filter(e => e.target === focusId).map(e => byId.get(e.source));
  const consumers = lineage.edges.filter(e => e.source === focusId).map(e => byId.get(e.target));
  const unique = (list: Array<LineageNode | undefined>) =>
    [...new Map(list.filter((n): n is LineageNode => !!n).map(n => [n.id, n])).values()];
  return { producers: unique(producers), consumers: unique(consumers) };
}
