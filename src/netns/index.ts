/** src/netns: sandboxes (named network namespaces) and commands run inside them. */
export { SandboxRoot, type Sandbox, type SandboxSpec, type SandboxRootOptions } from './sandbox.js';
export { sandboxSpawn, sandboxExec, type ExecResult } from './exec.js';
export { checkSandboxName, MAX_SANDBOX_NAME_LENGTH } from './names.js';
export { icmpEcho, type EchoOptions } from './probe.js';
