/** The launch form and its framework-free model. */
export { LaunchForm } from './LaunchForm';
export type { LaunchFormProps } from './LaunchForm';
export type { LaunchTarget } from './load';
export { describeType } from '../api/literals';
export {
  buildExecution,
  inputFields,
  launchPlanInfo,
  parseInput
} from './model';
export type { InputField, LaunchPlanInfo, Parsed } from './model';
export { readSettings } from './settings';
export type { SettingsDraft } from './settings';
