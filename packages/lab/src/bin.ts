#!/usr/bin/env node
/**
 * `detour-lab` (`pnpm lab` at the repository root): start the lab on loopback, keep it running, and
 * print ready-to-paste `detour fetch` and `detour doctor` commands, one per situation the README
 * describes. `--json` prints the same as one JSON line. SIGINT or SIGTERM stops every server and
 * exits 0.
 */
import { type BlackHoleProxy, startBlackHoleProxy } from './black-hole.js';
import { type Lab, startLab } from './lab.js';

/** One situation: what it shows and the command that shows it. */
export interface LabCommand {
  name: string;
  what: string;
  command: string;
}

export interface LabReady {
  ca: string;
  commands: LabCommand[];
}

/** The commands for a running lab (the `detour` binary of the workspace, from the repository root). */
export function labCommands(
  lab: Lab,
  stuck: BlackHoleProxy,
  bin = './node_modules/.bin/detour',
): LabCommand[] {
  const trust = `--ca ${lab.caPath} --allow-private`;
  const image = `${lab.https.url}/image.png`;
  return [
    {
      name: 'direct',
      what: 'a healthy HTTPS origin: direct wins',
      command: `${bin} fetch ${image} ${trust} --no-proxy -o -`,
    },
    {
      name: 'legacy-tls',
      what: 'an origin that speaks only legacy TLS (SHA-1 signatures): tls-relaxed rescues it',
      command: `${bin} fetch ${lab.legacy.sha1Signatures.url}/image.png ${trust} --no-proxy -o /dev/null`,
    },
    {
      name: 'broken-accelerator',
      what: 'a proxy that breaks TLS to the origin (as a misconfigured accelerator does): direct-bypass goes around it',
      command: `${bin} fetch ${image} ${trust} --proxy ${lab.proxies.accelerator.url} -o /dev/null`,
    },
    {
      name: 'stuck-proxy',
      what: 'a proxy that accepts connections and never answers',
      command: `${bin} fetch ${image} ${trust} --proxy ${stuck.url} -o /dev/null`,
    },
    {
      name: 'downgrade',
      what: 'TLS broken, plain HTTP on the same port works: http-downgrade, opted in for this host only',
      command: `${bin} fetch ${lab.downgrade.shared.httpsUrl}/image.png ${trust} --no-proxy --allow-downgrade localhost -o /dev/null`,
    },
    {
      name: 'doctor',
      what: 'what is in the way behind the broken accelerator, and what to change',
      command: `${bin} doctor ${image} ${trust} --proxy ${lab.proxies.accelerator.url}`,
    },
  ];
}

async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const lab = await startLab();
  const stuck = await startBlackHoleProxy().catch(async (error: unknown) => {
    await lab.close();
    throw error;
  });
  const ready: LabReady = { ca: lab.caPath, commands: labCommands(lab, stuck) };
  if (json) process.stdout.write(`${JSON.stringify(ready)}\n`);
  else {
    const lines = [`Detour lab running on 127.0.0.1 (CA: ${lab.caPath}). Ctrl-C stops it.`, ''];
    for (const c of ready.commands) lines.push(`# ${c.name}: ${c.what}`, c.command, '');
    process.stdout.write(lines.join('\n'));
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    Promise.all([lab.close(), stuck.close()]).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`detour-lab: stopping failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`detour-lab: ${(error as Error).message}\n`);
  process.exit(1);
});
