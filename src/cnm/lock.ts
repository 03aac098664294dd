/** Per-key read/write locks, first come first served: network-wide operations take a network exclusively, connects share it. */

interface State {
  readers: number;
  writer: boolean;
  queue: Array<{ exclusive: boolean; grant: () => void }>;
}

export class KeyedLock {
  private readonly states = new Map<string, State>();

  /** Run fn while holding key shared (others may share it too). */
  shared<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.run(key, false, fn);
  }

  /** Run fn while holding key alone. */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.run(key, true, fn);
  }

  private async run<T>(key: string, exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    let state = this.states.get(key);
    if (!state) {
      state = { readers: 0, writer: false, queue: [] };
      this.states.set(key, state);
    }
    const s = state;
    const free = exclusive ? !s.writer && s.readers === 0 : !s.writer && !s.queue.some((w) => w.exclusive);
    if (free && s.queue.length === 0) this.take(s, exclusive);
    else await new Promise<void>((grant) => s.queue.push({ exclusive, grant: () => (this.take(s, exclusive), grant()) }));
    try {
      return await fn();
    } finally {
      if (exclusive) s.writer = false;
      else s.readers--;
      this.next(key, s);
    }
  }

  private take(state: State, exclusive: boolean): void {
    if (exclusive) state.writer = true;
    else state.readers++;
  }

  private next(key: string, state: State): void {
    while (state.queue.length > 0) {
      const head = state.queue[0]!;
      if (head.exclusive) {
        if (state.writer || state.readers > 0) return;
        state.queue.shift()!.grant();
        return;
      }
      if (state.writer) return;
      state.queue.shift()!.grant();
    }
    if (!state.writer && state.readers === 0) this.states.delete(key);
  }
}
