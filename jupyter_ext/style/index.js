import './base.css';
import './dag.css';
import './launch.css';
import './execution.css';
import './executions.css';
import './artifacts.css';
import './workspaces.css';
import './apps.css';
