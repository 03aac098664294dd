#!/usr/bin/env node
// Set-up for `npm run lab`, `npm test` and `npm run bench` on a fresh Debian machine, as root, with
// only git and Node: installs what is missing (Debian packages, npm dependencies), builds native/
// with node-gyp and the TypeScript, and puts `yard` on PATH. Every step is skipped when already done,
// so a second run costs little. Plain Node with built-ins only: it runs before any dependency exists.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, readlinkSync, unlinkSync, chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildOnly = process.argv.includes('--build-only');

// Debian packages: what the product runs (iproute2 and nftables as independent checkers in tests,
// util-linux for unshare, libnftables for the native addon) and what tests and benchmarks drive
// (ping, python3 for the kernel floor; conntrack as a checker of zones; docker.io 20.10 with its containerd, runc and iptables-nft,
// and a static busybox for its image, for the dockerd harness in test/helpers/dockerd.ts; curl and
// iperf3 for the API and throughput benchmarks).
const PACKAGES = ['iproute2', 'nftables', 'libnftables-dev', 'conntrack', 'util-linux', 'iputils-ping', 'python3', 'make', 'g++', 'procps', 'docker.io', 'iptables', 'busybox-static', 'curl', 'iperf3'];

// Installing docker.io or containerd would start their services on the host: tests run dockerd only
// in namespaces of their own. Debian's policy-rc.d hook (exit 101: "action forbidden") keeps
// invoke-rc.d and deb-systemd-invoke from starting anything during the install.
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

function log(message) {
  process.stderr.write(`setup: ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

function missingPackages() {
  const result = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${Status}\n', ...PACKAGES], { encoding: 'utf8' });
  const installed = new Set(
    (result.stdout ?? '')
      .split('\n')
      .filter((line) => line.endsWith(' installed'))
      .map((line) => line.split(' ')[0]),
  );
  return PACKAGES.filter((name) => !installed.has(name));
}

function installPackages() {
  if (process.platform !== 'linux') throw new Error(`switchyard needs Linux (this is ${process.platform})`);
  const missing = missingPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`Debian packages missing (${missing.join(', ')}); run as root or install them`);
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-q'], { env });
  // A policy-rc.d already there is the machine's: used as it is, and left alone.
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\n# switchyard setup: start no service while installing packages\nexit 101\n', { mode: 0o755 });
  try {
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env });
  } finally {
    if (ownPolicy) unlinkSync(POLICY_RC_D);
  }
}

function newest(dir, filter = () => true) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name === 'build' || entry.name.startsWith('.')) continue;
      latest = Math.max(latest, newest(full, filter));
    } else if (filter(entry.name)) {
      latest = Math.max(latest, statSync(full).mtimeMs);
    }
  }
  return latest;
}

function mtime(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

function installNpm() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  if (mtime(marker) >= mtime(path.join(root, 'package-lock.json')) && mtime(marker) >= mtime(path.join(root, 'package.json'))) return;
  log('installing npm dependencies');
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error']);
}

function buildNative() {
  // The addon, the sandbox exec helper, and the benchmarks' single-attach floor (native/bench).
  const built = ['switchyard.node', 'yard-nsexec', 'yard-attach-floor'].map((name) => path.join(root, 'native', 'build', 'Release', name));
  const sources = newest(path.join(root, 'native'), (name) => /\.(c|h|gyp)$/.test(name));
  if (Math.min(...built.map(mtime)) >= sources) return;
  log('building native/ with node-gyp');
  const gyp = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const args = [gyp, 'rebuild', '--loglevel=warn'];
  // Debian's Node ships its headers; point node-gyp at them so nothing is downloaded.
  if (existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
  run(process.execPath, args, { cwd: path.join(root, 'native') });
}

function buildTypeScript() {
  log('building TypeScript');
  run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root]);
  chmodSync(path.join(root, 'dist', 'src', 'cli', 'main.js'), 0o755);
}

function linkCli() {
  const target = path.join(root, 'dist', 'src', 'cli', 'main.js');
  const bin = '/usr/local/bin/yard';
  try {
    if (existsSync(bin) || isLink(bin)) {
      if (isLink(bin) && readlinkSync(bin) === target) return;
      if (!isLink(bin)) {
        log(`${bin} exists and is not Switchyard's link; leaving it alone`);
        return;
      }
      unlinkSync(bin);
    }
    mkdirSync(path.dirname(bin), { recursive: true });
    symlinkSync(target, bin);
    log(`yard is on PATH (${bin} -> ${target})`);
  } catch (error) {
    log(`could not put yard on PATH (${error.message}); use node ${target}`);
  }
}

function isLink(file) {
  try {
    readlinkSync(file);
    return true;
  } catch {
    return false;
  }
}

try {
  if (!buildOnly) installPackages();
  installNpm();
  buildNative();
  buildTypeScript();
  if (!buildOnly) linkCli();
} catch (error) {
  log(`failed: ${error.message}`);
  process.exit(1);
}
