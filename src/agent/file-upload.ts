import type { AgentMessage } from '../protocol/agent.js';

/** The viewer side of a file transfer, as the uploads see it (implemented by AgentEndpoint). */
export interface UploadPeer {
  readonly peer: string;
  /** The viewer reads status details (FILE_XFER_DETAILED_ERRORS). */
  readonly detailedErrors: boolean;
  sendFileStatus(id: number, result: number, detail?: Uint8Array): void;
}

export type FileXferMessage = Extract<AgentMessage, { kind: 'fileXferStart' | 'fileXferData' | 'fileXferStatus' }>;

/** Files dropped into the desktop (FILE_XFER_START/DATA/STATUS). */
export interface FileUploads {
  handle(peer: UploadPeer, m: FileXferMessage): void;
  /** The viewer left or its agent was reset: its transfers are cancelled and their partial files removed. */
  viewerGone(peer: UploadPeer): void;
  /**
   * Call `f` once the viewer's file data waiting to be written is small again (at once if it is):
   * the agent holds the viewer's tokens back until then, so a fast viewer and a slow disk do not
   * pile file data up in memory.
   */
  whenDrained(peer: UploadPeer, f: () => void): void;
}
