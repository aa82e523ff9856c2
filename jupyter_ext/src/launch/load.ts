/**
 * What the launch form needs from the backend: the entity that runs, its
 * interface, and the launch plans it can be launched with.
 */
import type { Entity, EntityKind, ExecutionCreate, PlaitClient } from '../api/client';
import { InterfaceInputs, LaunchPlanInfo, interfaceInputs, launchPlanInfo } from './model';

/** What to launch: a task, a workflow (with one of its launch plans) or a launch plan. */
export interface LaunchTarget {
  kind: EntityKind;
  name: string;
  version?: string;
  project?: string;
  domain?: string;
}

export interface LaunchContext {
  /** The task or workflow that runs (for a launch plan: its workflow, when it could be read). */
  entity: Entity;
  inputs: InterfaceInputs;
  /** Launch plans to choose from: a workflow's plans, or the one launch plan asked for. */
  launchPlans: LaunchPlanInfo[];
  /** The plan selected at first: the one asked for, else the workflow's default plan. */
  defaultPlan: string | null;
  /** Where the workflow's plans could not be listed, why (the form still launches the workflow). */
  planProblem?: string;
}

type Domain = ExecutionCreate['domain'];

function scope(target: LaunchTarget): { project?: string; domain?: Domain } {
  return { project: target.project, domain: target.domain as Domain | undefined };
}

/** The launch plans of the workflow, each with its spec (the list route has no specs). */
export async function workflowLaunchPlans(
  client: PlaitClient,
  workflow: Entity,
  signal?: AbortSignal
): Promise<LaunchPlanInfo[]> {
  const query = { project: workflow.project, domain: workflow.domain };
  const list = await client.request('get', 'launch_plans', {
    query: { ...query, workflow: workflow.name, limit: 500 },
    signal
  });
  const plans = await Promise.all(
    list.items.map(item =>
      client
        .request('get', 'launch_plans/{name}', { path: { name: item.name }, query, signal })
        .then(lp => launchPlanInfo(lp.spec, lp.version))
    )
  );
  return plans.filter(p => p.workflow === workflow.name);
}

/** Read the target, its interface and its launch plans. */
export async function loadLaunchContext(
  client: PlaitClient,
  target: LaunchTarget,
  signal?: AbortSignal
): Promise<LaunchContext> {
  const query = { ...scope(target), version: target.version };
  const path = { name: target.name };
  if (target.kind === 'task') {
    const entity = await client.request('get', 'tasks/{name}', { path, query, signal });
    return { entity, inputs: interfaceInputs(entity.spec), launchPlans: [], defaultPlan: null };
  }
  if (target.kind === 'workflow') {
    const entity = await client.request('get', 'workflows/{name}', { path, query, signal });
    let launchPlans: LaunchPlanInfo[] = [];
    let planProblem: string | undefined;
    try {
      launchPlans = await workflowLaunchPlans(client, entity, signal);
    } catch (err) {
      if (signal?.aborted) {
        throw err;
      }
      planProblem = `Launch plans could not be read (${(err as Error).message}); the workflow is launched with its own defaults.`;
    }
    const named = launchPlans.find(p => p.name === entity.name) ?? launchPlans[0];
    return { entity, inputs: interfaceInputs(entity.spec), launchPlans, defaultPlan: named?.name ?? null, planProblem };
  }
  const lp = await client.request('get', 'launch_plans/{name}', { path, query, signal });
  const plan = launchPlanInfo(lp.spec, lp.version);
  let entity: Entity = lp;
  let inputs = interfaceInputs(lp.spec);
  // The plan's own interface leaves out its fixed inputs: read the workflow's, to show them locked.
  const wfScope = { project: lp.project, domain: lp.domain };
  for (const version of [lp.version, undefined]) {
    try {
      entity = await client.request('get', 'workflows/{name}', {
        path: { name: plan.workflow },
        query: { ...wfScope, version },
        signal
      });
      inputs = interfaceInputs(entity.spec);
      break;
    } catch (err) {
      if (signal?.aborted) {
        throw err;
      }
    }
  }
  return { entity, inputs, launchPlans: [plan], defaultPlan: plan.name };
}
