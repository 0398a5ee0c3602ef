/**
 * One error type for the whole toolkit. `kind` decides the CLI exit status:
 * `usage` and `input` exit 2 (the user can fix them), `internal` exits 1: anything else, a bug or a run that
 * failed although its options and data were acceptable (e.g. training that diverged, train/diverged.ts). The CLI
 * prints an IsfuseError of any kind as one line, without a stack trace.
 */
export type ErrorKind = 'usage' | 'input' | 'internal';

export class IsfuseError extends Error {
  readonly kind: ErrorKind;
  constructor(message: string, kind: ErrorKind = 'input', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IsfuseError';
    this.kind = kind;
  }
}

/** Error for bad input data (files, images, sizes): exit status 2. */
export function inputError(message: string, cause?: unknown): IsfuseError {
  return new IsfuseError(message, 'input', { cause });
}

/** Error for a bad option or argument: exit status 2. */
export function usageError(message: string): IsfuseError {
  return new IsfuseError(message, 'usage');
}

/** sharp's message shape: "Expected X for name but received Y". */
export function invalidParameter(name: string, expected: string, received: unknown): IsfuseError {
  return usageError(`Expected ${expected} for ${name} but received ${describe(received)}`);
}

/** Error for an unknown name in a registry, listing the valid ones. */
export function unknownName(what: string, name: string, valid: readonly string[]): IsfuseError {
  return usageError(`Unknown ${what} '${name}'. Valid ${what}s: ${valid.join(', ')}`);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === undefined || v === null) return String(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  try {
    return `${typeof v} ${JSON.stringify(v)}`;
  } catch {
    return typeof v;
  }
}
