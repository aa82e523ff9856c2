/**
 * The SVG content of a laid-out DAG: containers, edges, nodes and ports.
 *
 * Memoised on its props, so panning and zooming (which only move the group
 * around it) never re-render hundreds of nodes; a phase change re-renders
 * without a new layout.
 */
import * as React from 'react';

import type { DagLayout, LayoutBox, LayoutEdge } from './layout';
import { clip } from './layout';
import { kindClass, kindText, phaseClass, phaseText } from './legend';

export interface DagSceneProps {
  layout: DagLayout;
  phases?: Record<string, string>;
  selected?: string;
  /** The nodes chosen to run again, marked. */
  picked?: ReadonlySet<string>;
  /** The id of the arrowhead marker in the surrounding SVG. */
  markerId: string;
  /** A click or Enter/Space; `add` for a Ctrl/⌘+click (adds to the nodes chosen to run again). */
  onSelect: (path: string, add?: boolean) => void;
  onToggle: (box: LayoutBox) => void;
}

const HEADER = 30;

/** The accessible name of a node: "node slope (task), SUCCEEDED". */
export function nodeName(box: LayoutBox, phase?: string): string {
  const name = `node ${box.label} (${kindText(box.kind)})`;
  return phase ? `${name}, ${phase}` : name;
}

function activate(e: React.KeyboardEvent, action: () => void): void {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    e.stopPropagation();
    action();
  }
}

function tooltip(box: LayoutBox, phase?: string): string {
  const node = box.node!;
  const lines = [`${node.label} (${kindText(node.kind)})`];
  if (node.entity && node.entity !== node.label) {
    lines.push(node.entity);
  }
  if (node.target) {
    lines.push(`maps ${node.target}`);
  }
  if (phase) {
    lines.push(phase);
  }
  if (node.inputs.length) {
    lines.push(`in: ${node.inputs.map(p => `${p.name}: ${p.type}`).join(', ')}`);
  }
  if (node.outputs.length) {
    lines.push(`out: ${node.outputs.map(p => `${p.name}: ${p.type}`).join(', ')}`);
  }
  return lines.join('\n');
}

function Toggle(props: { box: LayoutBox; x: number; onToggle: (box: LayoutBox) => void }): JSX.Element {
  const { box, x, onToggle } = props;
  const toggle = (): void => onToggle(box);
  return (
    <g
      className="plait-DagToggle"
      role="button"
      tabIndex={0}
      aria-label={`${box.expanded ? 'Collapse' : 'Expand'} ${box.label}`}
      aria-expanded={box.expanded}
      transform={`translate(${x},7)`}
      onClick={e => {
        e.stopPropagation();
        toggle();
      }}
      onKeyDown={e => activate(e, toggle)}
    >
      <title>{box.expanded ? 'Collapse' : 'Expand'}</title>
      <rect width={16} height={16} rx={3} />
      <path d={box.expanded ? 'M4 8h8' : 'M4 8h8M8 4v8'} />
    </g>
  );
}

function NodeBox(props: {
  box: LayoutBox;
  phase?: string;
  selected: boolean;
  picked: boolean;
  onSelect: (path: string, add?: boolean) => void;
  onToggle: (box: LayoutBox) => void;
}): JSX.Element {
  const { box, phase, selected, picked, onSelect, onToggle } = props;
  const classes = ['plait-DagNode', kindClass(box.kind), phaseClass(phase)];
  if (selected) {
    classes.push('plait-mod-selected');
  }
  if (box.expanded) {
    classes.push('plait-mod-expanded');
  }
  if (picked) {
    classes.push('plait-mod-picked');
  }
  const select = (): void => onSelect(box.path);
  const sub = phase ? `${kindText(box.kind)} · ${phaseText(phase)}` : kindText(box.kind);
  const bodyHeight = box.expanded ? HEADER - 4 : box.height;
  return (
    <g className={classes.join(' ')} data-path={box.path} transform={`translate(${box.x},${box.y})`}>
      {box.expanded && <rect className="plait-DagNode-container" width={box.width} height={box.height} rx={8} />}
      <g
        className="plait-DagNode-body"
        role="button"
        tabIndex={0}
        aria-label={picked ? `${nodeName(box, phase)}, chosen to run again` : nodeName(box, phase)}
        aria-current={selected ? 'true' : undefined}
        onClick={e => (e.ctrlKey || e.metaKey ? onSelect(box.path, true) : select())}
        onKeyDown={e => activate(e, select)}
      >
        <title>{tooltip(box, phase)}</title>
        {selected && (
          <rect className="plait-DagNode-halo" x={-4} y={-4} width={box.width + 8} height={bodyHeight + 8} rx={9} />
        )}
        {picked && (
          <rect className="plait-DagNode-picked" x={-7} y={-7} width={box.width + 14} height={bodyHeight + 14} rx={11} />
        )}
        <rect className="plait-DagNode-box" width={box.width} height={bodyHeight} rx={box.expanded ? 8 : 6} />
        <rect className="plait-DagNode-stripe" width={5} height={bodyHeight} rx={2} />
        {box.expanded ? (
          <text className="plait-DagNode-label" x={14} y={18}>
            {clip(box.label)}
            <tspan className="plait-DagNode-sub" dx={8}>
              {sub}
            </tspan>
          </text>
        ) : (
          <>
            <text className="plait-DagNode-label" x={14} y={18}>
              {clip(box.label)}
            </text>
            <text className="plait-DagNode-sub" x={14} y={33}>
              {sub}
            </text>
          </>
        )}
      </g>
      {box.expandable && <Toggle box={box} x={box.width - 23} onToggle={onToggle} />}
    </g>
  );
}

function PortBox({ box }: { box: LayoutBox }): JSX.Element {
  return (
    <g className={`plait-DagPort plait-DagPort-${box.role}`} transform={`translate(${box.x},${box.y})`}>
      <title>{`${box.role} ${box.label}: ${box.detail ?? '?'}`}</title>
      <rect width={box.width} height={box.height} rx={box.height / 2} />
      <text x={box.width / 2} y={box.height / 2 + 4} textAnchor="middle">
        {clip(box.label, 24)}
      </text>
    </g>
  );
}

function CaseBox({ box }: { box: LayoutBox }): JSX.Element {
  const text = box.detail === 'else' ? box.label : `if ${box.label}`;
  return (
    <g className="plait-DagCase" transform={`translate(${box.x},${box.y})`}>
      <title>{text}</title>
      <rect width={box.width} height={box.height} rx={6} />
      <text x={10} y={box.expanded ? 16 : box.height / 2 + 4}>
        {clip(text, 48)}
      </text>
    </g>
  );
}

function pathOf(points: LayoutEdge['points']): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join('');
}

function Edge({ edge, markerId }: { edge: LayoutEdge; markerId: string }): JSX.Element | null {
  if (edge.points.length < 2) {
    return null;
  }
  const d = pathOf(edge.points);
  return (
    <g className={`plait-DagEdge plait-DagEdge-${edge.kind}`}>
      {edge.label && <title>{edge.label}</title>}
      <path className="plait-DagEdge-hit" d={d} />
      <path className="plait-DagEdge-line" d={d} markerEnd={`url(#${markerId})`} />
    </g>
  );
}

export const DagScene = React.memo(function DagScene(props: DagSceneProps): JSX.Element {
  const { layout, phases, selected, picked, markerId, onSelect, onToggle } = props;
  const containers: JSX.Element[] = [];
  const leaves: JSX.Element[] = [];
  for (const box of layout.boxes) {
    let el: JSX.Element;
    if (box.role === 'node') {
      el = (
        <NodeBox
          key={box.id}
          box={box}
          phase={phases?.[box.path]}
          selected={selected === box.path}
          picked={picked?.has(box.path) ?? false}
          onSelect={onSelect}
          onToggle={onToggle}
        />
      );
    } else if (box.role === 'case') {
      el = <CaseBox key={box.id} box={box} />;
    } else {
      el = <PortBox key={box.id} box={box} />;
    }
    (box.expanded ? containers : leaves).push(el);
  }
  return (
    <>
      <g className="plait-DagContainers">{containers}</g>
      <g className="plait-DagEdges">
        {layout.edges.map(e => (
          <Edge key={e.id} edge={e} markerId={markerId} />
        ))}
      </g>
      <g className="plait-DagLeaves">{leaves}</g>
    </>
  );
});
