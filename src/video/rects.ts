import { intersectRect, rectIsEmpty, type Rect } from '../protocol/geometry.js';

/** `a` minus `b`: up to four rects (bands above and below, then the sides), none when b covers a. */
function subtractRect(a: Rect, b: Rect): Rect[] {
  const i = intersectRect(a, b);
  if (rectIsEmpty(i)) return [a];
  const out: Rect[] = [];
  if (i.top > a.top) out.push({ top: a.top, left: a.left, bottom: i.top, right: a.right });
  if (i.bottom < a.bottom) out.push({ top: i.bottom, left: a.left, bottom: a.bottom, right: a.right });
  if (i.left > a.left) out.push({ top: i.top, left: a.left, bottom: i.bottom, right: i.left });
  if (i.right < a.right) out.push({ top: i.top, left: i.right, bottom: i.bottom, right: a.right });
  return out;
}

/** What of `rects` lies outside every rect of `holes`. */
export function subtractAll(rects: readonly Rect[], holes: readonly Rect[]): Rect[] {
  let out = [...rects];
  for (const h of holes) out = out.flatMap((r) => subtractRect(r, h));
  return out;
}
