/** Sandbox names: used as file names (exec root, /run/netns) and on the command line. */
import { ValidationError } from '../netlink/errors.js';

export const MAX_SANDBOX_NAME_LENGTH = 64;

/** Throw a ValidationError naming `field` unless `name` is a usable sandbox name. */
export function checkSandboxName(name: string, field = 'name'): void {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError(field, 'sandbox name must not be empty');
  if (name === '.' || name === '..') throw new ValidationError(field, `sandbox name ${JSON.stringify(name)} is reserved`);
  if (/[/:\s]/.test(name)) throw new ValidationError(field, `sandbox name ${JSON.stringify(name)} must not contain '/', ':' or whitespace`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new ValidationError(field, `sandbox name ${JSON.stringify(name)} must start with a letter or digit and hold only letters, digits, '_', '.', '-'`);
  }
  if (name.length > MAX_SANDBOX_NAME_LENGTH) throw new ValidationError(field, `sandbox name is ${name.length} characters, the limit is ${MAX_SANDBOX_NAME_LENGTH}`);
}
