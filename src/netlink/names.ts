/** Interface names, checked before any kernel call (the kernel's own rules, with a clear error). */
import { ValidationError } from './errors.js';

/** IFNAMSIZ less the terminating NUL. */
export const MAX_INTERFACE_NAME_BYTES = 15;

/** Throw a ValidationError naming `field` unless `name` is a valid Linux interface name. */
export function checkInterfaceName(name: string, field = 'name'): void {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError(field, 'interface name must not be empty');
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_INTERFACE_NAME_BYTES) {
    throw new ValidationError(field, `interface name ${JSON.stringify(name)} is ${bytes} bytes, the limit is ${MAX_INTERFACE_NAME_BYTES}`);
  }
  if (name === '.' || name === '..') throw new ValidationError(field, `interface name ${JSON.stringify(name)} is reserved`);
  if (/[/:\s]/.test(name) || /[\u0000-\u001f]/.test(name)) {
    throw new ValidationError(field, `interface name ${JSON.stringify(name)} must not contain '/', ':' or whitespace`);
  }
}
