/* Audio building blocks for the playback (type 5) and record (type 6) channels. */
export * from './pcm.js';
export * from './opus.js';
export * from './wav.js';
export * from './tones.js';
export * from './analysis.js';
export { downmixWeights, defaultChannelMask } from './layout.js';
