/**
 * The undo stack of one controller operation: every step that creates something pushes its undo
 * right after it succeeds; a failure unwinds in reverse, collects undo errors, and rethrows the
 * original error with them attached (netavark setup.rs, libnetwork sbJoin).
 */
import { CnmError } from './errors.js';

export class UndoStack {
  private readonly steps: Array<{ label: string; undo: () => Promise<void> | void }> = [];

  /** Register how to undo a step that just succeeded. */
  push(label: string, undo: () => Promise<void> | void): void {
    this.steps.push({ label, undo });
  }

  /** How many undos are registered. */
  get size(): number {
    return this.steps.length;
  }

  /** The operation succeeded: forget the undos. */
  commit(): void {
    this.steps.length = 0;
  }

  /**
   * Undo every registered step, last first; every undo runs even when one fails. Returns the
   * original error (a CnmError keeps its category) with the undo failures in `undoErrors`.
   */
  async unwind(cause: unknown): Promise<Error> {
    const undoErrors: Error[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.undo();
      } catch (error) {
        undoErrors.push(new Error(`undo ${step.label}: ${error instanceof Error ? error.message : String(error)}`));
      }
    }
    const error = cause instanceof Error ? cause : new Error(String(cause));
    if (undoErrors.length > 0) {
      if (error instanceof CnmError) error.undoErrors.push(...undoErrors);
      else (error as Error & { undoErrors?: Error[] }).undoErrors = undoErrors;
    }
    return error;
  }
}
