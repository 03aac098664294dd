/** src/store: the state store. */
export * from './store.js';
export { MemoryStore } from './memory.js';
