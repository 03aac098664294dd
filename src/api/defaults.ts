/** The daemon's defaults, in a module of their own: the CLI reads them without loading the engine. */
export const DEFAULT_HOST = 'unix:///run/switchyard/yard.sock';
export const DEFAULT_DATA_ROOT = '/var/lib/switchyard';
export const DEFAULT_EXEC_ROOT = '/run/switchyard';
export const VERSION = '0.1.0';
