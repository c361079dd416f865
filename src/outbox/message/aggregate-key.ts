/** One key per aggregate (type and id), for maps and sets: no id can contain the separator. */
export function aggregateKey(aggregateType: string, aggregateId: string): string {
  return `${aggregateType}\u0000${aggregateId}`;
}
