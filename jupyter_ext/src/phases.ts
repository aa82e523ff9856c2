/**
 * Phase names and their colour classes, shared by every panel.
 *
 * The names are the generated schema's (`ExecutionPhase`, `NodePhase` in
 * api/client.ts); the tables below are keyed by them, so a phase the backend
 * adds is a compile error here until it is given its place.
 */
import type { ExecutionPhase, NodePhase } from './api/client';

/** Whether a node in this phase has ended, by phase; the key order is the order lists show. */
const ENDED: Record<NodePhase, boolean> = {
  QUEUED: false,
  RUNNING: false,
  // A gate node (sleep, wait_for_input, approve): waiting for its time, a signal or an approval.
  WAITING: false,
  SUCCEEDED: true,
  FAILED: true,
  ABORTED: true,
  TIMED_OUT: true,
  SKIPPED: true,
  CACHE_HIT: true,
  REUSED: true
};

/** The phases only nodes reach; the others are an execution's too. */
const NODE_ONLY: Record<Exclude<NodePhase, ExecutionPhase>, true> = {
  SKIPPED: true,
  CACHE_HIT: true,
  REUSED: true,
  WAITING: true
};

/** Every node phase, in the order legends list them. */
export const NODE_PHASES = Object.keys(ENDED) as NodePhase[];

/** Every execution phase, in the order filters list them. */
export const EXECUTION_PHASES = NODE_PHASES.filter((p): p is ExecutionPhase => !(p in NODE_ONLY));

/** The phases that end a node or an execution. */
export const TERMINAL: ReadonlySet<string> = new Set(NODE_PHASES.filter(p => ENDED[p]));

export function isTerminal(phase: string | null | undefined): boolean {
  return phase != null && TERMINAL.has(phase);
}

/** The colour class of a phase badge: `plait-phase-timed-out`. */
export function phaseClass(phase: string | null | undefined): string {
  return `plait-phase-${(phase ?? 'UNKNOWN').toLowerCase().replace(/_/g, '-')}`;
}
