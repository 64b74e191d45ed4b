/**
 * An error the user can cause and fix: printed as one clear message, never a stack.
 * `input` names the offending input (a file, a flag, a field path), `hint` how to fix it.
 */
export class GamedayError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly input?: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'GamedayError';
  }

  /** The one-paragraph text shown to the user. */
  describe(): string {
    const where = this.input ? `${this.input}: ` : '';
    const hint = this.hint ? `\n  hint: ${this.hint}` : '';
    return `error ${this.code}: ${where}${this.message}${hint}`;
  }
}
