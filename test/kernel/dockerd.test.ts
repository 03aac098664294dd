/**
 * Docker beside the tests: a real dockerd (Debian's docker.io 20.10) in a namespace nested in the
 * test namespace (dockerd changes namespace-wide state: ip_forward, the FORWARD policy), with an
 * "outside" host behind a veth. The scenario itself is test/fixtures/dockerd-scenario.ts; this file
 * judges its report and checks from here that nothing of it is left.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireThrowaway } from '../helpers/scratch.js';
import { IMAGE_PAGE, dockerdLeftovers, runDockerdScenario } from '../helpers/dockerd.js';
import { NFT } from '../helpers/ip.js';

const scenarioScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'dockerd-scenario.js');

test('a container on docker0 reaches an outside host, a published port answers it, and dockerd leaves nothing behind', async (t) => {
  requireThrowaway(t);
  const run = await runDockerdScenario(t, scenarioScript);
  if (!run) return;
  const { report, stderr, id, ms } = run;
  const timings = report.facts.timings as Record<string, number>;
  t.log(`scenario ${ms} ms (in the namespace ${report.ms} ms): ${report.steps.map((step) => `${step.name} ${step.ms} ms`).join('; ')}; dockerd ${JSON.stringify(timings)}`);

  const failed = report.steps.filter((step) => !step.ok);
  t.deepEqual(failed, [], `steps failed; scenario stderr:\n${stderr.slice(-4000)}`);
  t.deepEqual(
    report.steps.map((step) => step.name),
    [
      'a container on docker0 pings the outside host',
      'a port published on 8080 answers the outside host at the host-side address',
      "dockerd's firewall, with the published port",
      'dockerd starts, and is gone with everything it made afterwards',
    ],
  );
  const step = (name: string) => report.steps.find((s) => s.name.startsWith(name))?.value;
  t.regex(String(step('a container on docker0 pings')), /bytes from 192\.0\.2\.2/);
  t.is(step('a port published on 8080'), IMAGE_PAGE);

  // What dockerd 20.10 does to a namespace's firewall, through iptables-nft: FORWARD drops by
  // default and first jumps to DOCKER-USER, which only returns: the place for a neighbour's rules.
  const firewall = step("dockerd's firewall") as { forward: Array<Record<string, any>>; dockerUser: Array<Record<string, any>>; ipForward: string; bridgeNfCallIptables: string; iptables: string };
  const forwardChain = firewall.forward.find((item) => item.chain)?.chain;
  t.like(forwardChain, { family: 'ip', table: 'filter', name: 'FORWARD', hook: 'forward', policy: 'drop' });
  const forwardRules = firewall.forward.filter((item) => item.rule).map((item) => item.rule);
  t.deepEqual(forwardRules[0]?.expr.find((e: Record<string, any>) => e.jump)?.jump, { target: 'DOCKER-USER' });
  t.deepEqual(firewall.dockerUser.filter((item) => item.rule).map((item) => item.rule.expr.map((e: Record<string, any>) => Object.keys(e)[0])), [['counter', 'return']]);
  t.is(firewall.ipForward, '1');
  t.is(firewall.bridgeNfCallIptables, '1');
  t.regex(firewall.iptables, /^-P FORWARD DROP$/m);

  // Nothing left: in the nested namespace (its own check), and as seen from here.
  t.deepEqual(report.leftovers, [], 'nothing left in the nested namespace');
  t.deepEqual(dockerdLeftovers(id), [], 'no process, cgroup or directory of the dockerd left');
  const here = spawnSync(NFT, ['list', 'chain', 'ip', 'filter', 'DOCKER-USER'], { encoding: 'utf8' });
  t.not(here.status, 0, 'dockerd never touched the test namespace');
});
