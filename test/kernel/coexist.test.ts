/**
 * Switchyard beside a real dockerd (Debian's docker.io), both ways: Switchyard networks pass
 * traffic through dockerd's FORWARD policy drop, docker0 containers still reach the outside, and
 * Switchyard's rules in DOCKER-USER are owned, commented and gone with their networks. The scenario
 * runs in a namespace of its own (test/fixtures/coexist-scenario.ts); this file judges its report.
 */
import test from 'ava';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireThrowaway } from '../helpers/scratch.js';
import { IMAGE_PAGE, dockerdLeftovers, runDockerdScenario } from '../helpers/dockerd.js';

const scenarioScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'coexist-scenario.js');

test('Switchyard and dockerd side by side: both reach the outside, and Switchyard leaves DOCKER-USER as it found it', async (t) => {
  requireThrowaway(t);
  const run = await runDockerdScenario(t, scenarioScript);
  if (!run) return;
  const { report, stderr, id } = run;
  const step = (name: string) => report.steps.find((s) => s.name.startsWith(name))?.value;
  t.deepEqual(report.steps.filter((step) => !step.ok), [], `steps failed; scenario stderr:\n${stderr.slice(-4000)}`);
  t.is(report.steps.length, 11, report.steps.map((s) => s.name).join('; '));
  t.is(step("dockerd's FORWARD policy"), '-P FORWARD DROP', 'dockerd drops what nobody accepts');

  t.is(step('the network made before dockerd started reaches the outside host with no network made since'), 'reply from 192.0.2.2', 'the watch gave a network older than dockerd its rules');
  t.is(step('a Switchyard network made after dockerd'), 'reply from 192.0.2.2');
  t.is(step('the network made before dockerd started reaches it too'), 'reply from 192.0.2.2');
  const rules = String(step('DOCKER-USER holds')).trim().split('\n');
  t.is(rules[0], '-N DOCKER-USER');
  t.is(rules.at(-1), '-A DOCKER-USER -j RETURN', "dockerd's own rule stays last");
  const ours = rules.filter((line) => line.includes('switchyard_coexist network'));
  t.is(ours.length, 4, 'two rules per network');
  for (const line of ours) t.regex(line, /^-A DOCKER-USER -[io] sy-[0-9a-f]{12} -m comment --comment "switchyard_coexist network [0-9a-f]{12} sy-[0-9a-f]{12}" -j ACCEPT$/);
  t.regex(String(step('a container on docker0')), /bytes from 192\.0\.2\.2/);
  t.is(step('a port dockerd publishes'), IMAGE_PAGE);
  t.is(step('Switchyard traffic still flows'), 'reply from 192.0.2.2');
  const after = step('deleting the networks') as { dockerUser: string; tables: string };
  t.is(after.dockerUser.trim(), '-N DOCKER-USER\n-A DOCKER-USER -j RETURN', 'DOCKER-USER as dockerd made it');
  t.notRegex(after.tables, /switchyard/, 'no table of Switchyard left');

  t.deepEqual(report.leftovers, [], 'nothing left in the nested namespace');
  t.deepEqual(dockerdLeftovers(id), [], 'no process, cgroup or directory of the dockerd left');
});
