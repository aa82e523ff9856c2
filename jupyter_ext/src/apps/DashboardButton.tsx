/**
 * The execution view's "Dashboard" button (a SUCCEEDED execution): deploys the
 * Panel dashboard of its outputs as an app, says so while it does (building and
 * starting it takes seconds), then opens the app's view and offers "Open".
 */
import * as React from 'react';

import { appsChanged } from './changes';
import { openInNewTab } from './AppList';
import { appUrl } from './model';
import type { DeployedDashboard } from './types';

export interface DashboardButtonProps {
  executionId: string;
  /** Deploys the dashboard of an execution (`deployExecutionDashboard` in the lab). */
  deploy: (executionId: string) => Promise<DeployedDashboard>;
  /** Opens the app's view once it is deployed. */
  onOpenApp: (name: string, scope: { project: string; domain: string }) => void;
  /** The lab's base URL: "Open dashboard" opens `<base>plait/apps/<p>/<d>/<name>/`. */
  baseUrl: string;
  openWindow?: (url: string) => void;
}

type State = { state: 'idle' } | { state: 'deploying' } | { state: 'done'; app: DeployedDashboard } | { state: 'error'; message: string };

export function DashboardButton(props: DashboardButtonProps): JSX.Element {
  const { executionId, deploy, onOpenApp } = props;
  const [state, setState] = React.useState<State>({ state: 'idle' });
  const mounted = React.useRef(true);
  React.useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const start = () => {
    setState({ state: 'deploying' });
    deploy(executionId)
      .then(app => {
        appsChanged();
        onOpenApp(app.name, { project: app.project, domain: app.domain });
        if (mounted.current) {
          setState({ state: 'done', app });
        }
      })
      .catch(e => mounted.current && setState({ state: 'error', message: e instanceof Error ? e.message : String(e) }));
  };
  const openWindow = props.openWindow ?? openInNewTab;
  return (
    <span className="plait-DashboardButton">
      <button
        type="button"
        className="jp-Button jp-mod-styled"
        disabled={state.state === 'deploying'}
        title="Deploy a Panel dashboard of this execution's outputs as an app"
        onClick={start}
      >
        {state.state === 'deploying' ? 'Deploying dashboard…' : 'Dashboard'}
      </button>
      {state.state === 'deploying' && (
        <span role="status" className="plait-Muted plait-DashboardButton-progress">
          Building the dashboard of {executionId} and starting its app…
        </span>
      )}
      {state.state === 'done' && (
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-accept"
          title={`Open the app ${state.app.name} in a new browser tab`}
          onClick={() => openWindow(appUrl(props.baseUrl, state.app))}
        >
          Open dashboard
        </button>
      )}
      {state.state === 'error' && (
        <span role="alert" className="plait-Error plait-DashboardButton-error">
          {state.message}
        </span>
      )}
    </span>
  );
}
