/* The built-in demo desktop (what `spiced serve` shows by default). */
export { DemoSource, type DemoOptions, type FrameReport } from './demo-source.js';
export type { DemoLayout } from './layout.js';
