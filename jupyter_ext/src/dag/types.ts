/**
 * The DAG bundle: MIME type `application/vnd.plait.dag+json`, version 1.
 *
 * `%plait dag` emits it from a compiled workflow (kernel/notebook/dag.py) and
 * the backend serves it for registered entities (`GET /{kind}s/{name}/dag`),
 * so the notebook and the panels draw the same picture.
 *
 * The types are the backend's (`Dag*` in `schema.d.ts`). Optional fields are
 * absent where they do not apply, never null, though the schema allows null.
 */
import type { Schemas } from '../api/client';

export { DAG_MIME } from '../api/client';

/** A whole bundle: a task's, workflow's or launch plan's graph with its name and kind. */
export type Dag = Schemas['Dag'];
/** A graph: inputs, outputs, nodes and edges (a bundle, a nested workflow, a branch case). */
export type DagGraph = Schemas['DagGraph'];
/** A node; workflow and launch plan nodes carry `graph`, branch nodes `cases`. */
export type DagNode = Schemas['DagNode'];
export type DagCase = Schemas['DagCase'];
export type DagEdge = Schemas['DagEdge'];
/** A workflow input or a node output: name and type. */
export type DagParam = Schemas['DagParam'];
/** A node input: name, type and what it is bound to. */
export type DagInput = Schemas['DagInput'];
/** A graph output: name, type and the value it is. */
export type DagOutput = Schemas['DagOutput'];
/** Where a value comes from: exactly one of `input`, `node` (with `output`), `literal`, `collection`. */
export type DagSource = Schemas['DagSource'];

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
