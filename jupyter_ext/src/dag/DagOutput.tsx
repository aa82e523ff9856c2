/** A DAG in a notebook output: the view, sized to its content, and the selected node's details. */
import * as React from 'react';

import { DagView } from './DagView';
import { kindText } from './legend';
import { NodeDetails, nodesByPath } from './NodeDetails';
import type { Dag } from './types';

export interface DagOutputProps {
  dag: Dag;
  /** The tallest the drawing grows before it scrolls and zooms within; 600 unless given. */
  maxHeight?: number;
}

/** Whether `data` looks like a DAG bundle this version can draw. */
export function isDagBundle(data: unknown): data is Dag {
  const d = data as Partial<Dag> | null;
  return !!d && typeof d === 'object' && d.version === 1 && Array.isArray(d.nodes) && Array.isArray(d.edges);
}

export function DagOutput({ dag, maxHeight }: DagOutputProps): JSX.Element {
  const [selected, setSelected] = React.useState<string | undefined>();
  const nodes = React.useMemo(() => nodesByPath(dag), [dag]);
  const node = selected !== undefined ? nodes.get(selected) : undefined;
  return (
    <div className="plait-DagOutput">
      <div className="plait-DagOutput-title">
        {kindText(dag.kind)} <strong>{dag.label}</strong>
        <span className="plait-DagOutput-hint">drag to pan · Ctrl/⌘ + wheel to zoom · click a node for its interface</span>
      </div>
      <DagView
        dag={dag}
        selected={selected}
        onSelectNode={path => setSelected(s => (s === path ? undefined : path))}
        sizing="content"
        maxHeight={maxHeight ?? 600}
        wheelZoom="modifier"
      />
      {node && <NodeDetails node={node} nodes={nodes} />}
    </div>
  );
}
