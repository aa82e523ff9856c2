/**
 * A launch plan's activation and schedule: which version is active (a badge),
 * activate the version shown or deactivate the plan (with confirmation), the
 * schedule in words with its next five times, and the ticks the scheduler
 * handled (launched, skipped by the concurrency policy, failed, missed).
 */
import * as React from 'react';

import type { PlaitClient, Schemas } from '../api/client';
import { formatTime } from '../format';

type State = Schemas['LaunchPlanState'];
type Run = Schemas['ScheduleRun'];

/** How often the ticks and the state are read again while the view is open. */
export const SCHEDULE_POLL_MS = 5000;

const OUTCOME_CLASS: Record<Run['outcome'], string> = {
  launched: 'plait-phase-succeeded',
  skipped: 'plait-phase-aborted',
  failed: 'plait-phase-failed',
  missed: 'plait-phase-skipped'
};

export interface LaunchPlanScheduleProps {
  client: PlaitClient;
  name: string;
  /** The version the entity view shows (activated by "Activate"). */
  version: string | undefined;
  onOpenExecution: (id: string) => void;
}

export function LaunchPlanSchedule(props: LaunchPlanScheduleProps): JSX.Element {
  const { client, name, version } = props;
  const [state, setState] = React.useState<State | null>(null);
  const [runs, setRuns] = React.useState<Run[] | null>(null);
  const [confirming, setConfirming] = React.useState(false);
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const confirmButton = React.useRef<HTMLButtonElement>(null);

  const load = React.useCallback(async () => {
    try {
      const [fresh, page] = await Promise.all([
        client.request('get', 'launch_plans/{name}/state', { path: { name }, query: { version } }),
        client.request('get', 'launch_plans/{name}/schedule_runs', { path: { name }, query: { limit: 20 } })
      ]);
      setState(fresh);
      setRuns(page.items);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [client, name, version]);

  React.useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), SCHEDULE_POLL_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  React.useEffect(() => {
    if (confirming) {
      confirmButton.current?.focus();
    }
  }, [confirming]);

  const act = async (what: 'activate' | 'deactivate') => {
    setBusy(true);
    setConfirming(false);
    setError(null);
    try {
      const fresh =
        what === 'activate' && version
          ? await client.request('post', 'launch_plans/{name}/versions/{version}/activate', {
              path: { name, version }
            })
          : await client.request('post', 'launch_plans/{name}/deactivate', { path: { name } });
      setState(fresh);
    } catch (e) {
      setError(`${what === 'activate' ? 'Activation' : 'Deactivation'} failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  const active = state?.active_version ?? null;
  const schedule = state?.schedule ?? null;
  return (
    <section aria-label="Schedule" className="plait-Section plait-LaunchPlanSchedule">
      <h2>
        Schedule{' '}
        {state && (
          <span
            role="status"
            aria-label="Activation"
            className={`plait-Badge ${active ? 'plait-phase-succeeded' : 'plait-phase-skipped'}`}
          >
            {active ? `active: ${active}` : 'inactive'}
          </span>
        )}
      </h2>
      {error && (
        <div role="alert" className="plait-Error">
          {error}
        </div>
      )}
      {state && (
        <div className="plait-HeaderActions">
          {version && active !== version && (
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-mod-accept"
              disabled={busy}
              onClick={() => void act('activate')}
            >
              Activate version {version}
            </button>
          )}
          {active && (
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-mod-reject"
              disabled={busy || confirming}
              onClick={() => setConfirming(true)}
            >
              Deactivate
            </button>
          )}
        </div>
      )}
      {confirming && active && (
        <div role="alertdialog" aria-label={`Deactivate ${name}?`} className="plait-ExecutionView-confirm">
          <span>
            Deactivate {name} (version {active})? Its schedule fires no further tick until a version is
            activated again.
          </span>
          <button
            ref={confirmButton}
            type="button"
            className="jp-Button jp-mod-styled jp-mod-warn"
            onClick={() => void act('deactivate')}
          >
            Confirm
          </button>
          <button type="button" className="jp-Button jp-mod-styled" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      {state && !schedule && (
        <p className="plait-Muted">
          {state.schedule_error ?? `Version ${state.version} has no schedule: it runs when launched.`}
        </p>
      )}
      {schedule && (
        <div>
          <p aria-label="Schedule in words">
            Version {state?.version}: {schedule.description}
            {schedule.kickoff_time_input_arg && ` (the tick's time goes to ${schedule.kickoff_time_input_arg})`};
            missed ticks: {schedule.catch_up}.
          </p>
          <h3>{active === state?.version ? 'Next times' : 'Next times, once active'}</h3>
          <ol aria-label="Next times" className="plait-LaunchPlanSchedule-times">
            {schedule.next_times.map(t => (
              <li key={t}>{formatTime(t)}</li>
            ))}
          </ol>
        </div>
      )}
      <h3>Ticks</h3>
      {runs && runs.length === 0 && <div className="plait-Muted">No tick handled yet.</div>}
      {runs && runs.length > 0 && (
        <table className="plait-Table" aria-label="Ticks">
          <thead>
            <tr>
              <th>Tick</th>
              <th>Outcome</th>
              <th>Execution</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {runs.map(r => (
              <tr key={`${r.tick}`}>
                <td>{formatTime(r.tick)}</td>
                <td>
                  <span className={`plait-Badge ${OUTCOME_CLASS[r.outcome]}`}>{r.outcome}</span>
                </td>
                <td>
                  {r.execution_id ? (
                    <button className="plait-Link" onClick={() => props.onOpenExecution(r.execution_id!)}>
                      {r.execution_id}
                    </button>
                  ) : (
                    ''
                  )}
                </td>
                <td>{r.detail ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
