/**
 * The hostile half of `pnpm soak` (issue 22): the real `detour serve` (the built CLI, a child
 * process, with a token and a real `redis-server` behind it) under attack for minutes, while
 * polite bots keep fetching:
 *
 * - flooders: unauthenticated clients trickling a large body, and slowloris clients trickling
 *   their headers, reconnecting as soon as they are cut off;
 * - hung hosts: fetches to origins that accept and never answer (three of them);
 * - Redis killed (SIGKILL) and restarted on the same port, again and again;
 * - header-varying clients: the same URL with a different `X-Api-Key` each time;
 * - polite bots: authorized fetches of a real image, and /healthz.
 *
 * Every SOAK_SAMPLE_S it samples the service's RSS, open descriptors and socket descriptors from
 * /proc/PID, and fails when they grew past the limits from the first samples after warm-up to
 * the last, or when a polite request failed, or when the service's sockets did not come back to
 * their level before the attack once it stopped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type BlackHoleProxy, type Lab, startBlackHoleProxy } from '../packages/lab/src/index.js';

const DETOUR_BIN = fileURLToPath(new URL('../node_modules/.bin/detour', import.meta.url));
const TOKEN = 'soak-token';
/** Allowed growth of the service from the first samples (after warm-up) to the last ones. */
const LIMITS = { rssMiB: 40, fds: 24, sockets: 24 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ServiceSample {
  s: number;
  polite: number;
  politeFailed: number;
  floods: number;
  hung: number;
  varied: number;
  redisRestarts: number;
  rssMiB: number;
  fds: number;
  socketFds: number;
}

function processStats(pid: number): { rssMiB: number; fds: number; socketFds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssMiB = Math.round((Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024) * 10) / 10;
  const fds = readdirSync(`/proc/${pid}/fd`);
  let socketFds = 0;
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) socketFds++;
    } catch {
      // closed while we looked
    }
  }
  return { rssMiB, fds: fds.length, socketFds };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** redis-server on a fixed port, so that it can be killed and started again where it was. */
function startRedisAt(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      if (/Ready to accept connections/.test(out)) resolve(child);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
}

async function startService(redisUrl: string, env: Record<string, string>) {
  const child = spawn(
    DETOUR_BIN,
    [
      'serve',
      '--port',
      '0',
      '--token',
      TOKEN,
      '--redis',
      redisUrl,
      '--allow-private',
      '--no-proxy',
      '--header-timeout',
      '2000',
      '--body-timeout',
      '5000',
      '--max-connections',
      '400',
    ],
    {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (text: string) => {
      stderr += text;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`detour serve exited with ${code}: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}

/** One HTTP request; resolves with the status (0: the connection failed), the body drained. */
function httpCall(
  url: string,
  init: { headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {},
): Promise<number> {
  return new Promise((resolve) => {
    const payload = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body));
    const req = request(
      url,
      {
        method: payload ? 'POST' : 'GET',
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...init.headers },
        timeout: init.timeoutMs ?? 20_000,
        agent: false,
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', () => resolve(0));
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
    req.end(payload);
  });
}

/** A client that sends `head`, then trickles `body` one byte at a time until the service cuts it off. */
async function trickler(port: number, head: string, body: string, ms: number, stop: () => boolean) {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.on('data', () => {});
  let closed = false;
  socket.once('close', () => {
    closed = true;
  });
  await new Promise<void>((r) => {
    socket.once('connect', r);
    socket.once('close', r);
  });
  for (const byte of head + body) {
    if (closed || stop()) break;
    socket.write(byte);
    await sleep(ms);
  }
  socket.destroy();
}

export async function runHostileSoak(lab: Lab, minutes: number, sampleS: number): Promise<number> {
  const redisPort = await freePort();
  let redis: ChildProcess | undefined = await startRedisAt(redisPort);
  const hung: BlackHoleProxy[] = await Promise.all([1, 2, 3].map(() => startBlackHoleProxy()));
  const service = await startService(`redis://127.0.0.1:${redisPort}`, { NODE_EXTRA_CA_CERTS: lab.caPath });
  const pid = service.child.pid!;
  const port = Number(new URL(service.url).port);
  const auth = { authorization: `Bearer ${TOKEN}` };
  const counts = { polite: 0, politeFailed: 0, floods: 0, hung: 0, varied: 0, redisRestarts: 0 };
  const samples: ServiceSample[] = [];
  const started = Date.now();
  const until = started + minutes * 60_000;
  const stop = () => Date.now() >= until;
  let n = 0;

  await sleep(500);
  const before = processStats(pid);
  console.log(
    `hostile soak: detour serve pid ${pid} (token, --redis, --max-connections 400), ${minutes} min, sample every ${sampleS} s`,
  );
  console.log(
    `service before the attack: rss ${before.rssMiB} MiB, ${before.fds} fds, ${before.socketFds} socket fds`,
  );
  const columns = [
    's',
    'polite',
    'polite ✗',
    'floods',
    'hung',
    'varied',
    'redis ↻',
    'rss MiB',
    'fds',
    'sock fds',
  ];
  console.log(columns.map((h) => h.padStart(9)).join(' '));
  const sample = () => {
    samples.push({ s: Math.round((Date.now() - started) / 1000), ...counts, ...processStats(pid) });
    console.log(
      Object.values(samples.at(-1)!)
        .map((v) => String(v).padStart(9))
        .join(' '),
    );
  };
  const timer = setInterval(sample, sampleS * 1000);

  const loops: Array<Promise<unknown>> = [];
  const loop = (count: number, body: () => Promise<unknown>) => {
    for (let i = 0; i < count; i++) {
      loops.push(
        (async () => {
          while (!stop()) await body();
        })(),
      );
    }
  };
  const postHead = `POST /v1/fetch HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n`;
  // Flooders: 20 unauthenticated body tricklers and 20 slowloris clients.
  loop(20, async () => {
    await trickler(port, postHead, 'z'.repeat(100_000), 20, stop);
    counts.floods++;
  });
  loop(20, async () => {
    await trickler(port, '', postHead, 100, stop);
    counts.floods++;
  });
  // Hung hosts: origins that accept and never answer.
  loop(6, async () => {
    const origin = hung[n++ % hung.length]!;
    await httpCall(`${service.url}/v1/fetch`, {
      headers: auth,
      body: { url: `http://127.0.0.1:${origin.port}/hang?n=${n}`, timeoutMs: 1500 },
    });
    counts.hung++;
  });
  // Header-varying clients: one URL, a different X-Api-Key each time.
  loop(2, async () => {
    await httpCall(`${service.url}/v1/fetch`, {
      headers: auth,
      body: { url: `${lab.https.url}/image.png?varied=1`, headers: { 'X-Api-Key': `key-${n++}` } },
    });
    counts.varied++;
  });
  // Polite bots: an image (a new URL every time, and a repeated one) and /healthz.
  loop(2, async () => {
    const which = n++;
    const url = `${lab.https.url}/image.png?polite=${which % 3 === 0 ? 'same' : which}`;
    const fetched = await httpCall(`${service.url}/v1/fetch?url=${encodeURIComponent(url)}`, {
      headers: auth,
    });
    const health = await httpCall(`${service.url}/healthz`);
    counts.polite += 2;
    if (fetched !== 200) counts.politeFailed++;
    if (health !== 200) counts.politeFailed++;
    await sleep(100);
  });
  // Redis: killed every 30 s, started again on the same port 10 s later.
  const wait = async (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end && !stop(); ) await sleep(250);
  };
  loops.push(
    (async () => {
      while (!stop()) {
        await wait(30_000);
        if (stop()) break;
        redis?.kill('SIGKILL');
        redis = undefined;
        await wait(10_000);
        redis = await startRedisAt(redisPort);
        counts.redisRestarts++;
      }
    })(),
  );
  await Promise.all(loops);
  clearInterval(timer);
  sample(); // the last sample of the attack itself
  // The attack is over: the service's sockets come back to where they were.
  await sleep(3000);
  const after = processStats(pid);
  console.log(
    `service 3 s after the attack: rss ${after.rssMiB} MiB, ${after.fds} fds, ${after.socketFds} socket fds`,
  );

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const early = samples.slice(1, 4);
  const late = samples.slice(-3);
  const growth = (key: 'rssMiB' | 'fds' | 'socketFds') =>
    median(late.map((x) => x[key])) - median(early.map((x) => x[key]));
  const checks = [
    ['service RSS (MiB)', growth('rssMiB'), LIMITS.rssMiB],
    ['service open descriptors', growth('fds'), LIMITS.fds],
    ['service socket descriptors', growth('socketFds'), LIMITS.sockets],
    ['service socket descriptors after the attack vs before', after.socketFds - before.socketFds, 8],
    ['polite requests (fetch, /healthz) that failed', counts.politeFailed, 0],
  ] as const;
  let bad = 0;
  for (const [name, value, limit] of checks) {
    const pass = value <= limit;
    if (!pass) bad++;
    console.log(`${pass ? '✓' : '✗'} ${name}: ${Math.round(value * 10) / 10} (limit ${limit})`);
  }
  const capLines = service.stderr().match(/connection cap reached/g)?.length ?? 0;
  console.log(`connection-cap warnings on the service's stderr: ${capLines}`);
  service.child.kill('SIGTERM');
  await new Promise((r) => service.child.once('exit', r));
  redis?.kill('SIGKILL');
  await Promise.all(hung.map((h) => h.close()));
  return bad;
}
