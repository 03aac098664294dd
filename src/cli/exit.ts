/** Exit codes by error category (docs/cli.md). */
import { UsageError } from './args.js';

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return 2;
  const category = (error as { category?: string }).category ?? (error instanceof Error && error.name === 'ValidationError' ? 'bad-request' : 'internal');
  return ({ 'bad-request': 2, 'not-found': 3, conflict: 4, forbidden: 5, unavailable: 6, internal: 1 } as Record<string, number>)[category] ?? 1;
}
