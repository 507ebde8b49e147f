import type { StereoWeights } from './pcm.js';

/*
 * Speaker layouts for downmixing multichannel WAV files to stereo. Channel order and the
 * dwChannelMask bits follow WAVEFORMATEXTENSIBLE (ksmedia.h): channels appear in the file in
 * ascending bit order of the mask.
 */

const H = Math.SQRT1_2; // -3 dB: a centred or rear source split over two speakers keeps its power

/** [left, right] contribution of each WAVE speaker position, in bit order 0..17. */
const POSITION_WEIGHTS: readonly (readonly [number, number])[] = [
  [1, 0], // 0x1 front left
  [0, 1], // 0x2 front right
  [H, H], // 0x4 front centre
  [0, 0], // 0x8 LFE: the band below ~120 Hz is dropped, as common stereo downmixes do
  [H, 0], // 0x10 back left
  [0, H], // 0x20 back right
  [1, 0], // 0x40 front left of centre
  [0, 1], // 0x80 front right of centre
  [H, H], // 0x100 back centre
  [H, 0], // 0x200 side left
  [0, H], // 0x400 side right
  [H, H], // 0x800 top centre
  [H, 0], // 0x1000 top front left
  [H, H], // 0x2000 top front centre
  [0, H], // 0x4000 top front right
  [H, 0], // 0x8000 top back left
  [H, H], // 0x10000 top back centre
  [0, H], // 0x20000 top back right
];

/** Channels with no speaker position (mask too short) still reach both ears rather than vanish. */
const UNASSIGNED: readonly [number, number] = [H, H];

/** Masks assumed when a file gives none (plain WAVE_FORMAT_PCM), as most tools guess them. */
const DEFAULT_MASKS: Record<number, number> = {
  1: 0x4, // mono
  2: 0x3, // stereo
  3: 0x7, // FL FR FC
  4: 0x33, // quad: FL FR BL BR
  5: 0x37, // 5.0: FL FR FC BL BR
  6: 0x3f, // 5.1: FL FR FC LFE BL BR
  7: 0x70f, // 6.1: FL FR FC LFE BC SL SR
  8: 0x63f, // 7.1: FL FR FC LFE BL BR SL SR
};

function defaultChannelMask(channels: number): number {
  return DEFAULT_MASKS[Math.min(channels, 8)] ?? 0;
}

/**
 * Stereo downmix weights for `channels` channels with an optional dwChannelMask. Mono is
 * duplicated at full level; otherwise each side is scaled so its weights sum to at most 1,
 * which keeps a full-scale signal in every channel from clipping.
 */
export function downmixWeights(channels: number, channelMask?: number): StereoWeights {
  if (channels === 1) return { left: [1], right: [1] };
  const mask = channelMask !== undefined && channelMask !== 0 ? channelMask : defaultChannelMask(channels);
  const pairs = positionsFromMask(mask, channels).map((bit) =>
    bit === null ? UNASSIGNED : (POSITION_WEIGHTS[bit] ?? UNASSIGNED),
  );
  const sumL = pairs.reduce((s, p) => s + p[0], 0);
  const sumR = pairs.reduce((s, p) => s + p[1], 0);
  const scale = 1 / Math.max(1, sumL, sumR);
  return { left: pairs.map((p) => p[0] * scale), right: pairs.map((p) => p[1] * scale) };
}

/** Speaker bit for each of the first `channels` channels; null past the mask's set bits. */
function positionsFromMask(mask: number, channels: number): (number | null)[] {
  const bits: (number | null)[] = [];
  for (let bit = 0; bit < 32 && bits.length < channels; bit++) {
    if ((mask >>> bit) & 1) bits.push(bit);
  }
  while (bits.length < channels) bits.push(null);
  return bits;
}
