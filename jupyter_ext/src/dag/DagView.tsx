/**
 * A workflow's DAG as an SVG: pan by dragging, zoom with the wheel, Fit.
 *
 * Nodes are coloured by kind, or by live phase when `phases` is given (the
 * kind stays visible as a stripe and a sub-line). Subworkflows, launch plans
 * and branches expand in place, and the view then fits the new layout (an
 * expanded subworkflow is often wider than the viewport). Layout (ELK) runs
 * only when the DAG or the set of expanded nodes changes; phase and selection
 * changes only recolour.
 */
import * as React from 'react';

import { DagScene } from './DagScene';
import { countNodes, layoutDag, type DagLayout, type LayoutBox } from './layout';
import { kindClass, kindsOf, kindText, phaseClass, phasesOf, phaseText } from './legend';
import type { Dag } from './types';

export interface DagViewProps {
  dag: Dag;
  /** Live phase by node path (QUEUED, RUNNING, SUCCEEDED, FAILED, SKIPPED, CACHE_HIT, ...). */
  phases?: Record<string, string>;
  selected?: string;
  onSelectNode?: (path: string) => void;
  /** The nodes chosen to run again ("Run from here"), marked in the graph. */
  picked?: ReadonlySet<string>;
  /** Ctrl/⌘+click on a node: choose it to run again, or drop it (a plain click selects it). */
  onPickNode?: (path: string) => void;
  /** Paths of the subworkflow, launch plan and branch nodes open at first. */
  initiallyExpanded?: readonly string[];
  /**
   * 'fill' (default): as tall as the parent. 'content': as tall as the fitted
   * graph needs, between 120px and `maxHeight` (for notebook output cells).
   */
  sizing?: 'fill' | 'content';
  /** The most a 'content'-sized view grows to; 600 unless given. */
  maxHeight?: number;
  /** 'always' (default): the wheel zooms. 'modifier': only with Ctrl or ⌘, so a page scrolls past. */
  wheelZoom?: 'always' | 'modifier';
}

interface View {
  x: number;
  y: number;
  k: number;
}

const MARGIN = 16;
const MIN_ZOOM = 0.01;
const MAX_ZOOM = 4;
const MIN_HEIGHT = 120;
// jsdom and hidden panels report no size: assume a plausible one.
const FALLBACK = { width: 800, height: 400 };

function clampZoom(k: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, k));
}

/** The view that shows all of `layout` centred in a `width` × `height` viewport, never above 100 %. */
export function fitView(layout: DagLayout, width: number, height: number): View {
  const k = clampZoom(
    Math.min(1, (width - 2 * MARGIN) / Math.max(1, layout.width), (height - 2 * MARGIN) / Math.max(1, layout.height))
  );
  return { k, x: (width - layout.width * k) / 2, y: (height - layout.height * k) / 2 };
}

/** A 'content'-sized viewport's height: the graph's height at the zoom that fits its width. */
function contentHeight(layout: DagLayout | null, width: number, max: number): number {
  if (!layout) {
    return MIN_HEIGHT;
  }
  const k = Math.min(1, (width - 2 * MARGIN) / Math.max(1, layout.width));
  return Math.round(Math.min(max, Math.max(MIN_HEIGHT, layout.height * Math.max(k, 0.25) + 2 * MARGIN)));
}

function useSize(ref: React.RefObject<Element>): { width: number; height: number } {
  const [size, setSize] = React.useState(FALLBACK);
  React.useLayoutEffect(() => {
    const el = ref.current;
    if (!el) {
      return;
    }
    const measure = (): void => {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) {
        setSize(s => (s.width === r.width && s.height === r.height ? s : { width: r.width, height: r.height }));
      }
    };
    measure();
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return size;
}

/**
 * The same bundle object for as long as the content is the same, so a caller
 * that rebuilds an equal bundle on every render does not cause a new layout.
 */
function useStableDag(dag: Dag): Dag {
  const last = React.useRef<{ dag: Dag; text: string } | null>(null);
  if (last.current?.dag !== dag) {
    const text = JSON.stringify(dag);
    if (last.current?.text !== text) {
      last.current = { dag, text };
    }
  }
  return last.current!.dag;
}

function Legend(props: { kinds: string[]; phases: string[] }): JSX.Element {
  return (
    <ul className="plait-DagLegend" aria-label="Legend">
      {props.kinds.map(k => (
        <li key={`k-${k}`} className={`plait-DagLegend-kind ${kindClass(k)}`}>
          <span className="plait-DagLegend-swatch" aria-hidden="true" />
          {kindText(k)}
        </li>
      ))}
      {props.phases.map(p => (
        <li key={`p-${p}`} className={`plait-DagLegend-phase ${phaseClass(p)}`}>
          <span className="plait-DagLegend-swatch" aria-hidden="true" />
          {phaseText(p)}
        </li>
      ))}
    </ul>
  );
}

export function DagView(props: DagViewProps): JSX.Element {
  const { phases, selected, onSelectNode, picked } = props;
  const dag = useStableDag(props.dag);
  const sizing = props.sizing ?? 'fill';
  const maxHeight = props.maxHeight ?? 600;

  const [expanded, setExpanded] = React.useState<ReadonlySet<string>>(() => new Set(props.initiallyExpanded));
  const [layout, setLayout] = React.useState<DagLayout | null>(null);
  const [pending, setPending] = React.useState(true);
  const [error, setError] = React.useState<string | null>(null);
  const [view, setView] = React.useState<View | null>(null);

  const canvas = React.useRef<HTMLDivElement>(null);
  const svg = React.useRef<SVGSVGElement>(null);
  const size = useSize(canvas);
  const height = sizing === 'content' ? contentHeight(layout, size.width, maxHeight) : size.height;

  // Until the user pans or zooms, the view follows the viewport's size.
  const interacted = React.useRef(false);
  const sizeRef = React.useRef({ width: size.width, height });
  sizeRef.current = { width: size.width, height };

  React.useEffect(() => {
    let live = true;
    setPending(true);
    setError(null);
    layoutDag(dag, expanded).then(
      next => {
        if (!live) {
          return;
        }
        // A new layout (a first one, or after an expand or collapse) is shown whole.
        const { width } = sizeRef.current;
        const h = sizing === 'content' ? contentHeight(next, width, maxHeight) : sizeRef.current.height;
        setView(fitView(next, width, h));
        setLayout(next);
        setPending(false);
      },
      (e: unknown) => {
        if (live) {
          setError(e instanceof Error ? e.message : String(e));
          setPending(false);
        }
      }
    );
    return () => {
      live = false;
    };
  }, [dag, expanded, sizing, maxHeight]);

  React.useEffect(() => {
    if (layout && !interacted.current) {
      setView(fitView(layout, size.width, height));
    }
  }, [layout, size.width, height]);

  const select = React.useRef(onSelectNode);
  select.current = onSelectNode;
  const pick = React.useRef(props.onPickNode);
  pick.current = props.onPickNode;
  const dragged = React.useRef(false);
  const onSelect = React.useCallback((path: string, add?: boolean) => {
    if (dragged.current) {
      return;
    }
    if (add && pick.current) {
      pick.current(path);
    } else {
      select.current?.(path);
    }
  }, []);
  const onToggle = React.useCallback((box: LayoutBox) => {
    // The new layout is fitted, and then follows the viewport's size again until the user pans or zooms.
    interacted.current = false;
    setExpanded(prev => {
      const next = new Set(prev);
      if (next.has(box.path)) {
        next.delete(box.path);
      } else {
        next.add(box.path);
      }
      return next;
    });
  }, []);

  const fit = (): void => {
    interacted.current = false;
    if (layout) {
      setView(fitView(layout, size.width, height));
    }
  };
  const zoomBy = (factor: number, cx = size.width / 2, cy = height / 2): void => {
    interacted.current = true;
    setView(v => {
      if (!v) {
        return v;
      }
      const k = clampZoom(v.k * factor);
      return { k, x: cx - ((cx - v.x) * k) / v.k, y: cy - ((cy - v.y) * k) / v.k };
    });
  };

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  const wheelZoom = props.wheelZoom ?? 'always';
  React.useEffect(() => {
    const el = svg.current;
    if (!el) {
      return;
    }
    const onWheel = (e: WheelEvent): void => {
      if (wheelZoom === 'modifier' && !(e.ctrlKey || e.metaKey)) {
        return;
      }
      e.preventDefault();
      interacted.current = true;
      const r = el.getBoundingClientRect();
      const delta = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1);
      const factor = Math.exp(-delta * 0.002);
      setView(v => {
        if (!v) {
          return v;
        }
        const k = clampZoom(v.k * factor);
        const cx = e.clientX - r.left;
        const cy = e.clientY - r.top;
        return { k, x: cx - ((cx - v.x) * k) / v.k, y: cy - ((cy - v.y) * k) / v.k };
      });
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [wheelZoom, layout !== null]);

  // Drag to pan; a drag that moved does not count as a click on a node.
  const drag = React.useRef<{ id: number; x: number; y: number; view: View; moved: boolean } | null>(null);
  const onPointerDown = (e: React.PointerEvent<SVGSVGElement>): void => {
    if (e.button !== 0 || !view) {
      return;
    }
    dragged.current = false;
    drag.current = { id: e.pointerId, x: e.clientX, y: e.clientY, view, moved: false };
  };
  const onPointerMove = (e: React.PointerEvent<SVGSVGElement>): void => {
    const d = drag.current;
    if (!d || d.id !== e.pointerId) {
      return;
    }
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (!d.moved && Math.abs(dx) + Math.abs(dy) > 4) {
      d.moved = true;
      dragged.current = true;
      interacted.current = true;
      svg.current?.setPointerCapture?.(e.pointerId);
    }
    if (d.moved) {
      setView({ ...d.view, x: d.view.x + dx, y: d.view.y + dy });
    }
  };
  const onPointerUp = (e: React.PointerEvent<SVGSVGElement>): void => {
    if (drag.current?.id === e.pointerId) {
      if (drag.current.moved) {
        svg.current?.releasePointerCapture?.(e.pointerId);
        // the click that ends a drag comes after pointerup: ignore it, then listen again
        setTimeout(() => (dragged.current = false), 0);
      }
      drag.current = null;
    }
  };

  // Keyboard focus on a node out of sight brings it into view.
  const onFocus = (e: React.FocusEvent<SVGSVGElement>): void => {
    const path = (e.target as Element).closest?.('.plait-DagNode')?.getAttribute('data-path');
    const box = path != null && layout?.boxes.find(b => b.role === 'node' && b.path === path);
    if (!box || !view) {
      return;
    }
    const left = view.x + box.x * view.k;
    const top = view.y + box.y * view.k;
    const width = Math.min(box.width, 240) * view.k;
    const tall = Math.min(box.height, 42) * view.k;
    if (left < 0 || top < 0 || left + width > size.width || top + tall > height) {
      setView({ ...view, x: view.x + (size.width - width) / 2 - left, y: view.y + (height - tall) / 2 - top });
    }
  };

  const kinds = React.useMemo(() => kindsOf(dag), [dag]);
  const legendPhases = React.useMemo(() => phasesOf(phases), [phases]);
  const markerId = `plait-dag-arrow-${React.useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const count = React.useMemo(() => countNodes(dag, expanded), [dag, expanded]);
  const status = pending ? `Laying out ${count} ${count === 1 ? 'node' : 'nodes'}…` : null;

  return (
    <div className={`plait-DagView plait-mod-${sizing}`}>
      <div className="plait-DagView-toolbar">
        <Legend kinds={kinds} phases={legendPhases} />
        <div className="plait-DagView-buttons">
          {status && layout && (
            <span className="plait-DagView-busy" role="status">
              {status}
            </span>
          )}
          <button type="button" className="plait-DagView-button" aria-label="Zoom out" title="Zoom out" onClick={() => zoomBy(1 / 1.25)} disabled={!layout}>
            −
          </button>
          <button type="button" className="plait-DagView-button" aria-label="Zoom in" title="Zoom in" onClick={() => zoomBy(1.25)} disabled={!layout}>
            +
          </button>
          <button type="button" className="plait-DagView-button" title="Show the whole graph" onClick={fit} disabled={!layout}>
            Fit
          </button>
        </div>
      </div>
      <div className="plait-DagView-canvas" ref={canvas} style={sizing === 'content' ? { height } : undefined}>
        {error ? (
          <div className="plait-DagView-message" role="alert">
            The DAG could not be laid out: {error}
          </div>
        ) : !layout ? (
          <div className="plait-DagView-message" role="status">
            {status}
          </div>
        ) : (
          <svg
            ref={svg}
            role="group"
            aria-label={`DAG of ${kindText(dag.kind)} ${dag.label}`}
            width="100%"
            height="100%"
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
            onPointerCancel={onPointerUp}
            onFocus={onFocus}
          >
            <defs>
              <marker id={markerId} viewBox="0 0 10 10" refX={9} refY={5} markerWidth={7} markerHeight={7} orient="auto-start-reverse">
                <path className="plait-DagEdge-arrow" d="M0,0L10,5L0,10z" />
              </marker>
            </defs>
            <g transform={view ? `translate(${view.x},${view.y}) scale(${view.k})` : undefined}>
              <DagScene
                layout={layout}
                phases={phases}
                selected={selected}
                picked={picked}
                markerId={markerId}
                onSelect={onSelect}
                onToggle={onToggle}
              />
            </g>
          </svg>
        )}
      </div>
    </div>
  );
}
