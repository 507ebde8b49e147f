import type { ClipboardOffer } from './agent.js';

/*
 * The browser's clipboard through the asynchronous Clipboard API: text and PNG images (the one
 * image type browsers let a page read and write). Chromium re-encodes an image a page writes, so
 * what is read back is the same picture in other bytes: callers compare what they read with
 * `offerKey`, taken of what the clipboard really holds.
 */

const PNG = 'image/png';
const TEXT = 'text/plain';

/** What the browser's clipboard holds now (the browser may ask the person first, or refuse). */
export async function readBrowserClipboard(): Promise<ClipboardOffer> {
  const clipboard = navigator.clipboard;
  // Firefox before 125 and some embedded browsers have only readText.
  if (typeof clipboard.read !== 'function') return { text: await clipboard.readText() };
  const offer: ClipboardOffer = {};
  for (const item of await clipboard.read()) {
    if (offer.png === undefined && item.types.includes(PNG))
      offer.png = new Uint8Array(await (await item.getType(PNG)).arrayBuffer());
    if (offer.text === undefined && item.types.includes(TEXT)) offer.text = await (await item.getType(TEXT)).text();
  }
  return offer;
}

/** What a paste event carries: its text and its first PNG file. */
export async function pastedOffer(data: DataTransfer): Promise<ClipboardOffer> {
  const offer: ClipboardOffer = {};
  const text = data.getData(TEXT);
  if (text) offer.text = text;
  const image = [...data.files].find((f) => f.type === PNG);
  if (image) offer.png = new Uint8Array(await image.arrayBuffer());
  return offer;
}

/** Put the desktop's text or PNG image in the browser's clipboard. */
export async function writeBrowserClipboard(type: 'text' | 'png', data: Uint8Array): Promise<void> {
  const clipboard = navigator.clipboard;
  if (type === 'text') return clipboard.writeText(new TextDecoder().decode(data));
  await clipboard.write([new ClipboardItem({ [PNG]: new Blob([data as Uint8Array<ArrayBuffer>], { type: PNG }) })]);
}

/** A short key that tells two clipboard contents apart (text exactly, images by an FNV-1a hash). */
export function offerKey(offer: ClipboardOffer): string {
  let key = offer.text ? `t${offer.text.length}:${offer.text}` : '';
  if (offer.png) {
    let h = 0x811c9dc5;
    for (const b of offer.png) h = Math.imul(h ^ b, 0x01000193);
    key += `|p${offer.png.length}:${(h >>> 0).toString(16)}`;
  }
  return key;
}
