/**
 * The claim's prepared statement was not on the server connection its client expected: a
 * transaction-pooling proxy (PgBouncer before 1.21, or without `max_prepared_statements`)
 * ran the transaction on another one. The relay rolls the batch back and claims again,
 * unprepared from then on. Nothing was published, so nothing is lost or sent twice.
 * @internal
 */
export class PreparedClaimLostError extends Error {
  constructor(readonly sqlState: string) {
    super(
      `The relay's prepared claim was lost between transactions (SQLSTATE ${sqlState}); claims are no longer prepared`,
    );
    this.name = 'PreparedClaimLostError';
  }
}
