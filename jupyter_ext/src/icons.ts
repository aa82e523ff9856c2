import { LabIcon } from '@jupyterlab/ui-components';

/** Three braided strands: the plait mark, drawn in the theme's icon colour. */
const PLAIT_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
  <g class="jp-icon3" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
    <path d="M5 3c0 4 14 5 14 9s-14 5-14 9"/>
    <path d="M19 3c0 4-14 5-14 9s14 5 14 9"/>
    <path d="M12 3v18" opacity="0.55"/>
  </g>
</svg>`;

export const plaitIcon = new LabIcon({ name: 'plait:logo', svgstr: PLAIT_SVG });
