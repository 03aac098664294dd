/**
 * Test-only fault injection: with SWITCHYARD_FAULT=<step> in the environment, the process kills
 * itself with SIGKILL when it reaches that step, so crash tests can stop the engine at every step of
 * an operation. Without the variable this is one string comparison.
 */
const fault = process.env.SWITCHYARD_FAULT;


/** Mark that `step` is reached; dies there when the fault says so. */
export function faultPoint(step: string): void {
  if (fault === undefined) return;
  if (process.env.SWITCHYARD_FAULT_TRACE) process.stderr.write(`fault-point ${step}\n`);
  if (step === fault) process.kill(process.pid, 'SIGKILL');
}
