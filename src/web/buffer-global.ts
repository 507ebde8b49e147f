/*
 * The protocol codecs and image decoders are written against Node's Buffer; in the page the
 * `buffer` package provides the same class. esbuild injects this module wherever the bundle
 * names the global `Buffer`, so the shared code runs unchanged.
 */
export { Buffer } from 'buffer';
