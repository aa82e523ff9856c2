/** The interface of one DAG node: its inputs (with where each comes from) and outputs. */
import * as React from 'react';

import { kindText } from './legend';
import { forEachNode, type DagGraph, type DagNode, type DagSource } from './types';

/** Every node of a DAG by path, nested graphs and branch cases included. */
export function nodesByPath(dag: DagGraph): Map<string, DagNode> {
  const out = new Map<string, DagNode>();
  forEachNode(dag, n => out.set(n.path, n));
  return out;
}

/** Where a binding comes from, in words; `prefix` turns a node id into a path. */
export function sourceText(source: DagSource | undefined, prefix: string, nodes: Map<string, DagNode>): string {
  if (!source) {
    return '';
  }
  if (source.input != null) {
    return `input ${source.input}${source.path ? `[${source.path.join('][')}]` : ''}`;
  }
  if (source.node != null) {
    const label = nodes.get(prefix + source.node)?.label ?? source.node;
    return `${label}.${source.output}${source.path ? `[${source.path.join('][')}]` : ''}`;
  }
  if (source.literal != null) {
    return source.literal;
  }
  return `[${(source.collection ?? []).map(s => sourceText(s, prefix, nodes)).join(', ')}]`;
}

export interface NodeDetailsProps {
  node: DagNode;
  nodes: Map<string, DagNode>;
  phase?: string;
}

export function NodeDetails({ node, nodes, phase }: NodeDetailsProps): JSX.Element {
  const prefix = node.path.slice(0, node.path.length - node.id.length);
  return (
    <section className="plait-DagDetails" aria-label={`Details of ${node.label}`}>
      <h3>
        {node.label} <span className="plait-DagDetails-kind">{kindText(node.kind)}</span>
        {phase && <span className="plait-DagDetails-phase"> · {phase}</span>}
      </h3>
      {node.entity && node.entity !== node.label && <div className="plait-DagDetails-entity">{node.entity}</div>}
      <table>
        <tbody>
          {node.inputs.map(p => (
            <tr key={`in-${p.name}`}>
              <th scope="row">in</th>
              <td>
                {p.name}: <code>{p.type}</code>
              </td>
              <td>{p.source ? <>← {sourceText(p.source, prefix, nodes)}</> : null}</td>
            </tr>
          ))}
          {node.outputs.map(p => (
            <tr key={`out-${p.name}`}>
              <th scope="row">out</th>
              <td>
                {p.name}: <code>{p.type}</code>
              </td>
              <td />
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
