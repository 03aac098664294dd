/** Where the CLI writes and reads, so commands can be driven in-process by tests. */
import readline from 'node:readline';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** One line from the user (stdin); null at end of input. */
  readLine(prompt: string): Promise<string | null>;
}

export const stdio: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  readLine: (prompt) =>
    new Promise((resolve) => {
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: false });
      process.stderr.write(prompt);
      let answered = false;
      rl.once('line', (line) => {
        answered = true;
        rl.close();
        resolve(line);
      });
      rl.once('close', () => {
        if (!answered) resolve(null);
      });
    }),
};

/** Docker's y/N prompt: yes only for y or yes. */
export async function confirm(io: Io, prompt: string): Promise<boolean> {
  const answer = await io.readLine(prompt);
  return answer !== null && /^(y|yes)$/i.test(answer.trim());
}
