/**
 * The DOCKER-USER reconcile (Firewall.reconcileDockerUser) against a fake nftables: what it deletes
 * and inserts when dockerd's chain is missing rules, holds stale ones, or is already right. The real
 * chain, with a real dockerd, is test/kernel/coexist.test.ts.
 */
import test from 'ava';
import { Firewall, type NftCommand, type NftDirect } from '../../src/firewall/index.js';
import { dockerUserMark, type FirewallNetwork } from '../../src/firewall/ruleset.js';

const PREFIX = 'sy_unit';
const network = (n: number): FirewallNetwork => ({ id: `${String(n).repeat(12)}${'0'.repeat(52)}`, bridge: `sy-br${n}`, subnets: [`10.9.${n}.0/24`], internal: false, masquerade: true });
const comment = (net: FirewallNetwork) => `${dockerUserMark(PREFIX, net)} ${net.bridge}`;

/** A fake nftables: `chains` per family (null: no such chain), every applied transaction recorded. */
function fake(chains: Record<string, Array<{ handle: number; comment?: string }> | null>) {
  const applied: NftCommand[][] = [];
  const reader: NftDirect = {
    tables: async () => Object.keys(chains).map((family) => ({ family, name: 'filter' })),
    chainRules: async (family) => chains[family] ?? null,
  };
  const firewall = new Firewall(PREFIX, async (commands) => void applied.push(commands), async () => [], reader);
  return { firewall, applied };
}

async function withNetworks(firewall: Firewall, networks: FirewallNetwork[]): Promise<void> {
  // addNetwork would also sync DOCKER-USER; the reconcile's own work is what is judged here.
  for (const net of networks) (firewall as unknown as { networks: Map<string, FirewallNetwork> }).networks.set(net.id, net);
}

const deletes = (commands: NftCommand[]) => commands.filter((c) => 'delete' in c).map((c) => (c.delete as { rule: { family: string; handle: number } }).rule);
const inserts = (commands: NftCommand[]) => commands.filter((c) => 'insert' in c).map((c) => (c.insert as { rule: { family: string; comment: string } }).rule);

test('a chain dockerd made after the networks gets every network’s two rules, in each family', async (t) => {
  const { firewall, applied } = fake({ ip: [{ handle: 1 }], ip6: [] });
  await withNetworks(firewall, [network(1), network(2)]);
  t.is(await firewall.reconcileDockerUser(), 8);
  t.is(applied.length, 1, 'one transaction');
  t.deepEqual(deletes(applied[0]!), []);
  t.deepEqual(
    inserts(applied[0]!).map((rule) => `${rule.family} ${rule.comment}`),
    ['ip', 'ip6'].flatMap((family) => [network(1), network(2)].flatMap((net) => [`${family} ${comment(net)}`, `${family} ${comment(net)}`])),
  );
});

test('a chain that is right already costs no transaction', async (t) => {
  const net = network(1);
  const { firewall, applied } = fake({ ip: [{ handle: 7, comment: comment(net) }, { handle: 8, comment: comment(net) }, { handle: 9 }] });
  await withNetworks(firewall, [net]);
  t.is(await firewall.reconcileDockerUser(), 0);
  t.deepEqual(applied, []);
});

test('stale rules (networks this engine no longer has) go, a network missing one rule gets both again, and other rules are left alone', async (t) => {
  const kept = network(1);
  const half = network(2);
  const gone = network(3);
  const { firewall, applied } = fake({
    ip: [
      { handle: 1, comment: comment(kept) },
      { handle: 2, comment: comment(kept) },
      { handle: 3, comment: comment(half) },
      { handle: 4, comment: comment(gone) },
      { handle: 5, comment: comment(gone) },
      { handle: 6, comment: 'an administrator’s rule' },
      { handle: 7, comment: `other_prefix network ${'3'.repeat(12)} sy-br3` },
    ],
    ip6: null,
  });
  await withNetworks(firewall, [kept, half]);
  await firewall.reconcileDockerUser();
  t.deepEqual(deletes(applied[0]!).map((rule) => rule.handle).sort(), [3, 4, 5]);
  t.deepEqual(inserts(applied[0]!).map((rule) => rule.comment), [comment(half), comment(half)]);
  t.true(inserts(applied[0]!).every((rule) => rule.family === 'ip'), 'no chain in ip6: nothing there');
});

test('the watch reconciles every interval until close', async (t) => {
  const { firewall, applied } = fake({ ip: [] });
  await withNetworks(firewall, [network(1)]);
  const errors: Error[] = [];
  firewall.watchDockerUser(20, (error) => errors.push(error));
  await new Promise((resolve) => setTimeout(resolve, 120));
  firewall.close();
  const rounds = applied.length;
  t.true(rounds >= 2, `${rounds} rounds in 120 ms at 20 ms`);
  await new Promise((resolve) => setTimeout(resolve, 80));
  t.is(applied.length, rounds, 'none after close');
  t.deepEqual(errors, []);
});
