/**
 * Lay out a DAG bundle with ELK: positioned boxes and routed edges, no DOM.
 *
 * Workflow inputs and outputs become small port boxes. Subworkflow and launch
 * plan nodes (which carry `graph`) and branch nodes (`cases`) are collapsed
 * unless their path is in `expanded`; an expanded one becomes an ELK compound
 * node holding its nested graph (or one box per case), laid out in the same
 * pass (hierarchy handling INCLUDE_CHILDREN). Every coordinate in the result is
 * absolute, so a renderer draws boxes and edges without adding offsets.
 */
import type { ELK as ElkInstance, ElkExtendedEdge, ElkNode, LayoutOptions } from 'elkjs/lib/elk-api';

import { forEachNode, type DagGraph, type DagNode, type DagSource } from './types';

export type BoxRole = 'node' | 'input' | 'output' | 'case';

export interface LayoutBox {
  /** Unique within the layout (the ELK id). */
  id: string;
  role: BoxRole;
  /** The node's path in execution records; '' for ports and cases. */
  path: string;
  label: string;
  /** The node's kind; 'input' / 'output' for ports, 'case' for branch cases. */
  kind: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** 0 at the top level, +1 inside each expanded node. */
  depth: number;
  /** A workflow / launch plan with a graph, or a branch with cases. */
  expandable: boolean;
  /** Drawn as a container of its nested graph. */
  expanded: boolean;
  /** Role 'node': the bundle's node. */
  node?: DagNode;
  /** Ports: the declared type. Cases: the condition ('else' when none). */
  detail?: string;
}

export interface LayoutPoint {
  x: number;
  y: number;
}

export interface LayoutEdge {
  id: string;
  source: string;
  target: string;
  /** 'data' or 'order' between nodes; 'input' / 'output' to and from ports. */
  kind: string;
  label?: string;
  points: LayoutPoint[];
}

export interface DagLayout {
  width: number;
  height: number;
  /** Containers come before what they contain. */
  boxes: LayoutBox[];
  edges: LayoutEdge[];
}

// Sizes in px, matched to style/dag.css (12px labels, 10px sub-lines).
const CHAR = 7;
const NODE_H = 42;
const NODE_MIN_W = 96;
const NODE_MAX_W = 240;
const PORT_H = 22;
const HEADER = 30;
const PAD = 12;
const MAX_LABEL = 32;

// Past this many boxes and edges, trade looks for speed: orthogonal routing of
// a wide fan-out and model-order crossing minimisation each cost seconds at 500 nodes.
const LARGE = 200;

const ROOT_OPTIONS: LayoutOptions = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.spacing.nodeNode': '16',
  'elk.layered.spacing.nodeNodeBetweenLayers': '36',
  'elk.spacing.edgeNode': '12',
  'elk.layered.spacing.edgeNodeBetweenLayers': '12',
  'elk.padding': '[top=12,left=12,bottom=12,right=12]',
  'elk.json.shapeCoords': 'ROOT',
  'elk.json.edgeCoords': 'ROOT'
};

// ELK (1.4 MB) loads on the first layout, not when the extension loads. In a browser it
// runs in a Web Worker, so laying out a large DAG never blocks the page; where there are
// no workers (tests, Node) it runs in the same thread.
let elk: Promise<ElkInstance> | null = null;

function loadElk(): Promise<ElkInstance> {
  elk ??=
    typeof Worker === 'undefined'
      ? import('elkjs/lib/elk.bundled.js').then(m => new m.default())
      : import('elkjs/lib/elk-api.js').then(
          m =>
            new m.default({
              workerFactory: () => new Worker(new URL('elkjs/lib/elk-worker.min.js', import.meta.url))
            })
        );
  return elk;
}

/** Whether a node can be expanded to show a nested graph. */
export function isExpandable(node: DagNode): boolean {
  return node.graph != null || (node.cases != null && node.cases.length > 0);
}

/** Shorten a label for drawing; the full text goes in tooltips. */
export function clip(text: string, max: number = MAX_LABEL): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The boxes a layout of `dag` will hold: what "Laying out N nodes…" counts. */
export function countNodes(dag: DagGraph, expanded: ReadonlySet<string> = new Set()): number {
  let n = 0;
  forEachNode(dag, () => (n += 1), node => expanded.has(node.path));
  return n;
}

/** Every input name and node id a binding reads. */
function refsOf(source: DagSource | undefined, inputs: Set<string>, nodes: Set<string>): void {
  if (!source) {
    return;
  }
  if (source.input != null) {
    inputs.add(source.input);
  } else if (source.node != null) {
    nodes.add(source.node);
  } else if (source.collection != null) {
    for (const s of source.collection) {
      refsOf(s, inputs, nodes);
    }
  }
}

/** Workflow inputs a branch's cases read (in any case, at any depth of cases). */
function branchInputs(node: DagNode, out: Set<string>): void {
  const ignored = new Set<string>();
  for (const c of node.cases ?? []) {
    for (const inner of c.graph.nodes) {
      for (const p of inner.inputs) {
        refsOf(p.source, out, ignored);
      }
      branchInputs(inner, out);
    }
  }
}

/** Room for the label, the kind line below it and, when expandable, the toggle. */
function nodeWidth(label: string, sub: string, expandable: boolean): number {
  const chars = Math.max(clip(label).length, sub.length * 0.85 + 10);
  const width = Math.round(chars * CHAR + 30 + (expandable ? 20 : 0));
  return Math.min(NODE_MAX_W, Math.max(NODE_MIN_W, width));
}

/** ELK's minimum size of a container whose header is `width` px wide. */
function minimum(width: number): string {
  return `(${Math.round(width)},${HEADER + 24})`;
}

/** An expanded node's header: label, "kind · phase" (room for the longest phase) and the toggle. */
function headerWidth(label: string, kind: string): number {
  return 14 + clip(label).length * CHAR + 8 + (kind.length + 12) * 6 + 30;
}

/** A case's header: its condition in 10.5px monospace. */
function caseWidth(label: string): number {
  return clip(`if ${label}`, 48).length * 6.4 + 24;
}

/** Builds the ELK graph and remembers what each ELK id stands for. */
class Builder {
  readonly boxes = new Map<string, Omit<LayoutBox, 'x' | 'y' | 'width' | 'height'>>();
  readonly edgeInfo = new Map<string, { kind: string; label?: string }>();
  edgeCount = 0;

  constructor(private readonly expanded: ReadonlySet<string>) {}

  private unique(base: string): string {
    let id = base;
    for (let k = 2; this.boxes.has(id); k++) {
      id = `${base}~${k}`;
    }
    return id;
  }

  private edge(container: ElkNode, source: string, target: string, kind: string, label?: string): void {
    const id = `e${this.edgeCount++}`;
    (container.edges ??= []).push({ id, sources: [source], targets: [target] } as ElkExtendedEdge);
    this.edgeInfo.set(id, label ? { kind, label } : { kind });
  }

  /**
   * Fill `container` with a workflow's graph: its inputs and outputs as ports
   * (when `ports`), its nodes, and the edges among them.
   */
  graph(container: ElkNode, g: DagGraph, depth: number, ports: boolean): void {
    const children = (container.children ??= []);
    const scope = container.id;
    const inputIds = new Map<string, string>();
    if (ports) {
      for (const p of g.inputs) {
        const id = this.unique(`in:${scope}:${p.name}`);
        this.boxes.set(id, { id, role: 'input', path: '', label: p.name, kind: 'input', depth,
                             expandable: false, expanded: false, detail: p.type });
        children.push({ id, width: Math.max(44, clip(p.name, 24).length * CHAR + 20), height: PORT_H,
                        layoutOptions: { 'elk.layered.layering.layerConstraint': 'FIRST' } });
        inputIds.set(p.name, id);
      }
    }
    const nodeIds = new Map<string, string>();
    for (const node of g.nodes) {
      nodeIds.set(node.id, this.node(children, node, depth));
    }
    for (const e of g.edges) {
      const s = nodeIds.get(e.source);
      const t = nodeIds.get(e.target);
      if (s && t && s !== t) {
        this.edge(container, s, t, e.kind, e.label || undefined);
      }
    }
    if (!ports) {
      return;
    }
    for (const node of g.nodes) {
      const reads = new Map<string, string[]>();
      for (const p of node.inputs) {
        const names = new Set<string>();
        refsOf(p.source, names, new Set());
        for (const name of names) {
          reads.set(name, [...(reads.get(name) ?? []), `${name} → ${p.name}`]);
        }
      }
      if (node.cases) {
        const names = new Set<string>();
        branchInputs(node, names);
        for (const name of names) {
          reads.set(name, reads.get(name) ?? [name]);
        }
      }
      for (const [name, labels] of reads) {
        const s = inputIds.get(name);
        if (s) {
          this.edge(container, s, nodeIds.get(node.id)!, 'input', labels.join(', '));
        }
      }
    }
    for (const p of g.outputs) {
      const id = this.unique(`out:${scope}:${p.name}`);
      this.boxes.set(id, { id, role: 'output', path: '', label: p.name, kind: 'output', depth,
                           expandable: false, expanded: false, detail: p.type });
      children.push({ id, width: Math.max(44, clip(p.name, 24).length * CHAR + 20), height: PORT_H,
                      layoutOptions: { 'elk.layered.layering.layerConstraint': 'LAST' } });
      const names = new Set<string>();
      const nodes = new Set<string>();
      refsOf(p.source, names, nodes);
      for (const n of nodes) {
        const s = nodeIds.get(n);
        if (s) {
          this.edge(container, s, id, 'output', p.name);
        }
      }
      for (const n of names) {
        const s = inputIds.get(n);
        if (s) {
          this.edge(container, s, id, 'output', p.name);
        }
      }
    }
  }

  private node(children: ElkNode[], node: DagNode, depth: number): string {
    const id = this.unique(`n:${node.path}`);
    const expandable = isExpandable(node);
    const expanded = expandable && this.expanded.has(node.path);
    this.boxes.set(id, { id, role: 'node', path: node.path, label: node.label, kind: node.kind, depth,
                         expandable, expanded, node });
    if (!expanded) {
      children.push({ id, width: nodeWidth(node.label, node.kind, expandable), height: NODE_H });
      return id;
    }
    const compound: ElkNode = {
      id,
      children: [],
      layoutOptions: {
        'elk.padding': `[top=${HEADER},left=${PAD},bottom=${PAD},right=${PAD}]`,
        'elk.nodeSize.constraints': '[MINIMUM_SIZE]',
        'elk.nodeSize.minimum': minimum(headerWidth(node.label, node.kind))
      }
    };
    children.push(compound);
    if (node.graph) {
      this.graph(compound, node.graph, depth + 1, true);
    } else {
      (node.cases ?? []).forEach((c, i) => {
        const caseId = this.unique(`case:${id}:${i}`);
        const fail = c.fail;
        const detail = c.condition ?? 'else';
        const label = fail ? `${detail} → fail: ${fail}` : detail;
        this.boxes.set(caseId, { id: caseId, role: 'case', path: '', label, kind: 'case', depth: depth + 1,
                                 expandable: false, expanded: c.graph.nodes.length > 0, detail });
        const box: ElkNode = {
          id: caseId,
          children: [],
          layoutOptions: {
            'elk.padding': `[top=${HEADER - 6},left=${PAD},bottom=${PAD},right=${PAD}]`,
            'elk.nodeSize.constraints': '[MINIMUM_SIZE]',
            'elk.nodeSize.minimum': minimum(caseWidth(label))
          }
        };
        if (c.graph.nodes.length === 0) {
          box.width = Math.round(caseWidth(label));
          box.height = PORT_H + 8;
          delete box.children;
          delete box.layoutOptions;
        }
        compound.children!.push(box);
        if (box.children) {
          this.graph(box, c.graph, depth + 2, false);
        }
      });
    }
    return id;
  }
}

/**
 * Lay out `dag`, with the nodes whose paths are in `expanded` opened.
 * Resolves to absolute boxes (containers first) and routed edges.
 */
export async function layoutDag(dag: DagGraph, expanded: ReadonlySet<string> = new Set()): Promise<DagLayout> {
  const builder = new Builder(expanded);
  const root: ElkNode = { id: 'root', children: [], edges: [], layoutOptions: { ...ROOT_OPTIONS } };
  builder.graph(root, dag, 0, true);
  const options = root.layoutOptions!;
  if (root.children!.some(c => c.children !== undefined)) {
    options['elk.hierarchyHandling'] = 'INCLUDE_CHILDREN';
  }
  if (builder.boxes.size + builder.edgeCount > LARGE) {
    options['elk.edgeRouting'] = 'POLYLINE';
    options['elk.layered.thoroughness'] = '2';
  } else {
    options['elk.edgeRouting'] = 'ORTHOGONAL';
    options['elk.layered.considerModelOrder.strategy'] = 'NODES_AND_EDGES';
  }
  const result = await (await loadElk()).layout(root);

  const boxes: LayoutBox[] = [];
  const edges: LayoutEdge[] = [];
  const visit = (n: ElkNode): void => {
    for (const child of n.children ?? []) {
      const info = builder.boxes.get(child.id)!;
      boxes.push({ ...info, x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 });
      visit(child);
    }
    for (const e of (n.edges ?? []) as ElkExtendedEdge[]) {
      const points: LayoutPoint[] = [];
      for (const s of e.sections ?? []) {
        points.push(s.startPoint, ...(s.bendPoints ?? []), s.endPoint);
      }
      edges.push({ id: e.id, source: e.sources[0], target: e.targets[0], ...builder.edgeInfo.get(e.id)!, points });
    }
  };
  visit(result);
  return { width: result.width ?? 0, height: result.height ?? 0, boxes, edges };
}
