import type { ClipboardSelection, ClipboardType } from '../seam/desktop-agent.js';
import { AgentClipboardType, AgentSelection } from '../protocol/agent.js';

/* Between the seam's names (desktop-agent.ts) and the agent protocol's numbers. */

const typeToWire: Record<ClipboardType, number> = {
  text: AgentClipboardType.Utf8Text,
  png: AgentClipboardType.Png,
  bmp: AgentClipboardType.Bmp,
  tiff: AgentClipboardType.Tiff,
  jpg: AgentClipboardType.Jpg,
};

const wireToType = new Map<number, ClipboardType>(
  Object.entries(typeToWire).map(([name, wire]) => [wire, name as ClipboardType]),
);

export function clipboardTypeToWire(type: ClipboardType): number {
  return typeToWire[type];
}

/** The seam's name for a wire type; undefined for NONE, FILE_LIST and numbers no protocol version has. */
export function clipboardTypeFromWire(wire: number): ClipboardType | undefined {
  return wireToType.get(wire);
}

export function selectionToWire(selection: ClipboardSelection): number {
  return selection === 'clipboard' ? AgentSelection.Clipboard : AgentSelection.Primary;
}

/** CLIPBOARD or PRIMARY; undefined for SECONDARY (X has it, nobody uses it) and anything else. */
export function selectionFromWire(wire: number): ClipboardSelection | undefined {
  if (wire === AgentSelection.Clipboard) return 'clipboard';
  if (wire === AgentSelection.Primary) return 'primary';
  return undefined;
}
