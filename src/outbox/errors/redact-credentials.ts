/** Hides `user:password@` in any URL inside a message before it is logged or reported. */
export function redactCredentials(message: string): string {
  return message.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
}
