/** Node kinds and live phases as the DAG view names and colours them. */
import { NODE_PHASES } from '../phases';
import { forEachNode, type DagGraph } from './types';

/**
 * The kinds with a colour of their own, in legend order; others are drawn as "other".
 * `artifact` and `execution` are the nodes of an artifact's lineage graph (artifacts/lineage.ts).
 */
export const KINDS = ['task', 'workflow', 'launch_plan', 'map', 'dynamic', 'branch', 'gate', 'artifact', 'execution'] as const;

/** Node phases with a colour of their own, in legend order: every one. */
const PHASES: readonly string[] = NODE_PHASES;

/** "launch_plan" → "launch plan". */
export function kindText(kind: string): string {
  return kind.replace(/_/g, ' ');
}

/** "TIMED_OUT" → "timed out". */
export function phaseText(phase: string): string {
  return phase.toLowerCase().replace(/_/g, ' ');
}

export function kindClass(kind: string): string {
  return (KINDS as readonly string[]).includes(kind) ? `plait-DagKind-${kind}` : 'plait-DagKind-other';
}

export function phaseClass(phase: string | undefined): string {
  if (!phase) {
    return '';
  }
  return PHASES.includes(phase)
    ? `plait-DagPhase-${phase.toLowerCase().replace(/_/g, '-')}`
    : 'plait-DagPhase-other';
}

/** The kinds that occur in a DAG, nested graphs included, in legend order. */
export function kindsOf(dag: DagGraph): string[] {
  const seen = new Set<string>();
  forEachNode(dag, n => seen.add(n.kind));
  const known = KINDS.filter(k => seen.has(k));
  const others = [...seen].filter(k => !(KINDS as readonly string[]).includes(k)).sort();
  return [...known, ...others];
}

/** The phases present in a phase map, in legend order. */
export function phasesOf(phases: Record<string, string> | undefined): string[] {
  if (!phases) {
    return [];
  }
  const seen = new Set(Object.values(phases));
  const known = PHASES.filter(p => seen.has(p));
  const others = [...seen].filter(p => !PHASES.includes(p)).sort();
  return [...known, ...others];
}
