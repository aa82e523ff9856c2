/**
 * The DAG bundle: MIME type `application/vnd.plait.dag+json`, version 1.
 *
 * `%plait dag` emits it from a compiled workflow (kernel/notebook/dag.py) and
 * the backend serves it for registered entities (`GET /{kind}s/{name}/dag`),
 * so the notebook and the panels draw the same picture.
 */
export const DAG_MIME = 'application/vnd.plait.dag+json';

export type DagSource =
  | { input: string; path?: string[] }
  | { node: string; output: string; path?: string[] }
  | { literal: string }
  | { collection: DagSource[] };

export interface DagPort {
  name: string;
  type: string;
  source?: DagSource;
}

export interface DagGraph {
  /** Nested graphs name their workflow. */
  name?: string;
  inputs: DagPort[];
  outputs: DagPort[];
  nodes: DagNode[];
  edges: DagEdge[];
}

export interface DagNode {
  id: string;
  /** The node's id in execution records (`n2-n0` inside subworkflow `n2`). */
  path: string;
  label: string;
  entity?: string;
  /** task, workflow, launch_plan, map, dynamic, branch, gate, ... */
  kind: string;
  inputs: DagPort[];
  outputs: DagPort[];
  /** workflow / launch_plan nodes: the nested DAG. */
  graph?: DagGraph;
  /** branch nodes: one graph per case (`condition` null for the else case; `fail` when it fails). */
  cases?: Array<{ condition: string | null; graph: DagGraph; fail?: string | null }>;
  /** `with_overrides(...)` settings of this node, as written. */
  overrides?: Record<string, unknown>;
  /** map nodes: the mapped task. */
  target?: string;
}

export interface DagEdge {
  source: string;
  target: string;
  kind: string;
  label?: string;
}

export interface DagBundle extends DagGraph {
  version: 1;
  name: string;
  label: string;
  kind: string;
  workflow?: string;
}

/**
 * Visit every node of `graph` and of its nested graphs and branch cases, parents
 * before children; `descend(node)` false skips what `node` contains.
 */
export function forEachNode(
  graph: DagGraph,
  visit: (node: DagNode) => void,
  descend: (node: DagNode) => boolean = () => true
): void {
  for (const node of graph.nodes) {
    visit(node);
    if (!descend(node)) {
      continue;
    }
    if (node.graph) {
      forEachNode(node.graph, visit, descend);
    }
    for (const c of node.cases ?? []) {
      forEachNode(c.graph, visit, descend);
    }
  }
}
