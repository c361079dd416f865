import type { MessageFormatOptions } from '../message/cloud-event.js';

/** What the core tells a transport factory: settings that are not the broker's own. @publicApi */
export interface OutboxTransportContext {
  /** How long to wait for one acknowledgement before the publish counts as failed. */
  readonly publishTimeoutMs: number;
  /** How events travel: the plain envelope, or CloudEvents with their source. */
  readonly messageFormat: MessageFormatOptions;
}
