/**
 * Lower-case unquoted PostgreSQL identifiers only: configuration that reaches SQL is checked
 * against this and then quoted, never interpolated as given.
 */
export const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteIdentifier(identifier: string): string {
  if (!SQL_IDENTIFIER.test(identifier)) {
    throw new TypeError(`Not a plain SQL identifier: ${JSON.stringify(identifier)}`);
  }
  return `"${identifier}"`;
}

/** `"schema"."table"`, or `"table"` when no schema is configured. */
export function qualifiedTableName(table: string, schema?: string): string {
  return schema ? `${quoteIdentifier(schema)}.${quoteIdentifier(table)}` : quoteIdentifier(table);
}
