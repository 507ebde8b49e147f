/**
 * True when this machine stores a u32 little-endian. Read from a typed array rather than
 * node:os so that the decoders that use it also run in the browser viewer.
 */
export const HOST_IS_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
