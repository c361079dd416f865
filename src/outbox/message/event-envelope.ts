/**
 * What travels to the broker: the event as JSON with snake_case keys, readable by services that
 * are not written with Nest (the original consumers are Rust).
 * @publicApi
 */
export interface EventEnvelope<TPayload = unknown> {
  event_id: string;
  event_type: string;
  event_version: string;
  aggregate_type: string;
  aggregate_id: string;
  /** RFC 3339, UTC. */
  occurred_at: string;
  payload: TPayload;
}
