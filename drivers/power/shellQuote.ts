/**
 * Quoting for a POSIX remote shell. `ssh host a b c` does not pass an argv:
 * it joins its arguments with spaces into ONE string that the remote login
 * shell parses. So every argument must be quoted before it reaches ssh.
 *
 * Each argument becomes a single-quoted word: inside single quotes a POSIX
 * shell expands nothing ($, `, \, ;, newlines are literal); a single quote
 * itself is written as '\'' (close, escaped quote, reopen). Assumes the remote
 * login shell is POSIX (sh, bash, dash, zsh), not csh/fish.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) {
    throw new TypeError('a shell argument cannot contain a NUL byte');
  }
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The argv as one command line for a POSIX shell, every word quoted. */
export function shellCommandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('an empty command cannot be quoted');
  return argv.map(shellQuote).join(' ');
}
