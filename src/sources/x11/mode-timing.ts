import { RR_HSYNC_POSITIVE, RR_VSYNC_NEGATIVE, type ModeInfo } from './randr-wire.js';

/*
 * Video timings for a mode of any size, by VESA's Coordinated Video Timings with reduced blanking
 * (what spice-vdagent and `cvt -r` compute): a virtual display ignores them, but the X server
 * validates a mode's timings before an output may use it, so they must be self-consistent.
 */

const H_BLANK = 160;
const H_FRONT_PORCH = 48;
const H_SYNC = 32;
const V_FRONT_PORCH = 3;
const MIN_V_BACK_PORCH = 6;
/** Shortest vertical blanking, in microseconds. */
const MIN_V_BLANK_US = 460;
/** The pixel clock is a multiple of 0.25 MHz (in kHz here). */
const CLOCK_STEP_KHZ = 250;

/** A mode named "WxH" at `refreshHz` (60 by default), with CVT reduced-blanking timings. */
export function cvtReducedMode(width: number, height: number, refreshHz = 60): ModeInfo {
  const hTotal = width + H_BLANK;
  const vSync = vSyncWidth(width, height);
  const hPeriodUs = (1e6 / refreshHz - MIN_V_BLANK_US) / height;
  const vBlank = Math.max(Math.floor(MIN_V_BLANK_US / hPeriodUs) + 1, V_FRONT_PORCH + vSync + MIN_V_BACK_PORCH);
  const vTotal = height + vBlank;
  const clockKhz = Math.floor((hTotal * vTotal * refreshHz) / 1000 / CLOCK_STEP_KHZ) * CLOCK_STEP_KHZ;
  return {
    id: 0,
    width,
    height,
    dotClock: clockKhz * 1000,
    hSyncStart: width + H_FRONT_PORCH,
    hSyncEnd: width + H_FRONT_PORCH + H_SYNC,
    hTotal,
    hSkew: 0,
    vSyncStart: height + V_FRONT_PORCH,
    vSyncEnd: height + V_FRONT_PORCH + vSync,
    vTotal,
    flags: RR_HSYNC_POSITIVE | RR_VSYNC_NEGATIVE,
    name: `${width}x${height}`,
  };
}

/** CVT's vertical sync width encodes the aspect ratio: 4 for 4:3, 5 for 16:9, 6 for 16:10, 7 for 5:4. */
function vSyncWidth(width: number, height: number): number {
  const is = (w: number, h: number): boolean => Math.abs(width * h - height * w) <= h;
  if (is(4, 3)) return 4;
  if (is(16, 9)) return 5;
  if (is(16, 10)) return 6;
  if (is(5, 4) || is(15, 9)) return 7;
  return 10;
}
