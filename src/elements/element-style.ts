// The shadow DOM's style shared by every element: a block that fills what the page gives it (300 px tall
// unless the page says otherwise), a stage the canvas fills, and a status line for errors.
export const ELEMENT_STYLE = `
:host { display: block; position: relative; height: 300px; min-height: 60px; contain: content; color: #ddd; font: 13px system-ui, sans-serif; }
:host([hidden]) { display: none; }
[part='stage'] { position: absolute; inset: 0; }
[part='stage'] > canvas { display: block; width: 100%; height: 100%; outline: none; }
[part='stage'] > canvas:focus-visible { outline: 2px solid #9cd; outline-offset: -2px; }
[part='tooltip'] { position: absolute; pointer-events: none; padding: 3px 6px; background: #111e; border: 1px solid #555; border-radius: 3px; white-space: nowrap; z-index: 2; }
[part='status'] { position: absolute; inset: auto 0 0 0; padding: 6px 8px; background: #3a1414e6; color: #fcc; white-space: pre-wrap; }
@media (prefers-reduced-motion: reduce) { * { transition: none !important; animation: none !important; } }
`;
