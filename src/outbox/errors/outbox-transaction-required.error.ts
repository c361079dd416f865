import { OutboxError } from './outbox.error.js';

/**
 * Thrown when events are written through an `EntityManager` that is not inside a transaction:
 * such a write commits on its own, and the event could outlive a rolled-back business change.
 * @publicApi
 */
export class OutboxTransactionRequiredError extends OutboxError {
  constructor() {
    super(
      "Outbox events must be written inside the caller's transaction: pass the EntityManager of dataSource.transaction(...) or of a QueryRunner with an active transaction (or set OUTBOX_REQUIRE_TRANSACTION=false)",
    );
  }
}
