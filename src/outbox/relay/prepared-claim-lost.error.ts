/**
 * The claim's prepared statement was not on the server connection its client expected: a
 * transaction-pooling proxy ran the transaction on another one. PgBouncer in transaction mode
 * does; since 1.21 it keeps protocol-level prepared statements, but not those of SQL
 * `PREPARE`, which the claim uses. The relay rolls the batch back and claims again,
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
