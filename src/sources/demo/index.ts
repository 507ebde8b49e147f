/* The built-in demo desktop (what `spiced serve` shows by default). */
export { DemoSource, type DemoOptions } from './demo-source.js';
