/**
 * Where to go after signing in: a path of this site only. Anything else — another origin,
 * a scheme-relative `//host`, a backslash browsers read as a slash, control characters — is
 * an open redirect in the making and becomes `/`.
 */
export function safeReturnTo(value: string | undefined): string {
  if (!value || value.length > 2048) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return '/';
  return value;
}
