/**
 * toFile() targets: devices, FIFOs and sockets are written into (never replaced), symlinks are
 * kept (the file they point to is replaced), mode and owner are kept; a local write error is
 * `local-io`: terminal, no network when the directory is missing, never counted by the circuit.
 * Real files, device nodes (mknod, we run as root), FIFOs (mkfifo), a Unix socket, a tiny tmpfs.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  createReadStream,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAB_PNG, labCerts, type Origin, startHttpsOrigin } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AttemptRequest,
  createPipeline,
  type DetourError,
  DirectStrategy,
  type Pipeline,
  type PipelineOptions,
  type Strategy,
} from '../src/internal.js';

let origin: Origin;
let dir: string;
const pipelines: Pipeline[] = [];
const isRoot = process.getuid?.() === 0;
const rootGate = isRoot ? '' : ' — skipped: needs root (mknod, mount)';

beforeAll(async () => {
  origin = await startHttpsOrigin();
  dir = mkdtempSync(join(tmpdir(), 'detour-targets-'));
});
afterAll(async () => {
  await Promise.all(pipelines.map((p) => p.close()));
  await origin?.close();
  rmSync(dir, { recursive: true, force: true });
});

function pipeline(options: PipelineOptions = {}): Pipeline {
  const p = createPipeline({ allowPrivateNetwork: true, ca: labCerts().ca.cert, ...options });
  pipelines.push(p);
  return p;
}

const image = (n: string | number) => `${origin.url}/image.png?n=${n}`;

/** A second real strategy (the same strict request): it must never run after a local-io failure. */
function second(): Strategy {
  const direct = new DirectStrategy();
  return {
    name: 'second',
    rescues: 'any',
    attempt: (req: AttemptRequest, signal: AbortSignal) => direct.attempt(req, signal),
  };
}

function sub(name: string): string {
  const path = join(dir, name);
  mkdirSync(path);
  return path;
}

describe('devices, FIFOs and sockets are written into, never replaced', () => {
  it.skipIf(!isRoot)(
    `a character device (a /dev/null made with mknod) stays a device${rootGate}`,
    async () => {
      const d = sub('dev');
      const devNull = join(d, 'null');
      execFileSync('mknod', ['-m', '666', devNull, 'c', '1', '3']);
      const result = await pipeline().toFile(image('dev'), devNull);
      expect(result.bytes).toBe(LAB_PNG.length);
      const after = lstatSync(devNull);
      expect(after.isCharacterDevice()).toBe(true);
      expect(after.rdev).toBe(statSync('/dev/null').rdev);
      expect(readdirSync(d)).toEqual(['null']); // no temp file left beside it
    },
  );

  it('a FIFO: the reader gets the body, the FIFO stays a FIFO', async () => {
    const d = sub('fifo');
    const fifo = join(d, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const p = pipeline();
    const pending = p.toFile(image('fifo'), fifo);
    await sleep(100); // the writer waits for a reader
    const chunks: Buffer[] = [];
    for await (const chunk of createReadStream(fifo)) chunks.push(chunk as Buffer);
    const result = await pending;
    expect(Buffer.concat(chunks).equals(LAB_PNG)).toBe(true);
    expect(result.bytes).toBe(LAB_PNG.length);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(d)).toEqual(['pipe']);
  });

  it('a FIFO nobody reads: the wait honours the deadline and the caller’s abort', async () => {
    const d = sub('fifo-unread');
    const fifo = join(d, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const p = pipeline({ cache: false });
    const started = performance.now();
    const timedOut = (await p.toFile(image('t'), fifo, { timeoutMs: 500 }).catch((e) => e)) as DetourError;
    // Issue 22 item 12: nobody reading is our side's failure, named with the path, not a timeout.
    expect(timedOut.failureClass).toBe('local-io');
    expect(timedOut.code).toBe('DETOUR_FIFO_UNREAD');
    expect(timedOut.message).toContain(fifo);
    expect(timedOut.message).toMatch(/nobody is reading it/);
    expect(timedOut.attempts.filter((a) => a.outcome === 'failed')).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(3000);
    const controller = new AbortController();
    const pending = p.toFile(image('a'), fifo, { signal: controller.signal }).catch((e) => e);
    await sleep(200);
    controller.abort();
    expect(((await pending) as DetourError).failureClass).toBe('aborted');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a Unix socket: the body is sent to whoever listens there', async () => {
    const d = sub('sock');
    const path = join(d, 'socket');
    const received: Buffer[] = [];
    const done = new Promise<void>((resolve) => {
      const server = createServer((socket) => {
        socket.on('data', (chunk) => received.push(chunk));
        socket.on('end', () => {
          server.close();
          resolve();
        });
      });
      server.listen(path);
    });
    await sleep(50);
    const result = await pipeline().toFile(image('sock'), path);
    await done;
    expect(result.bytes).toBe(LAB_PNG.length);
    expect(Buffer.concat(received).equals(LAB_PNG)).toBe(true);
  });
});

describe('regular files and symlinks', () => {
  it('an existing file keeps its mode (0600) and owner', async () => {
    const d = sub('mode');
    const file = join(d, 'a.png');
    writeFileSync(file, 'old');
    chmodSync(file, 0o600);
    if (isRoot) chownSync(file, 4321, 4321);
    await pipeline().toFile(image('mode'), file);
    const after = statSync(file);
    expect(readFileSync(file).equals(LAB_PNG)).toBe(true);
    expect(after.mode & 0o7777).toBe(0o600);
    if (isRoot) expect([after.uid, after.gid]).toEqual([4321, 4321]);
    expect(readdirSync(d)).toEqual(['a.png']);
  });

  it('a symlink is kept and the file it points to is replaced (also when it does not exist yet)', async () => {
    const d = sub('link');
    const real = join(d, 'real.png');
    writeFileSync(real, 'old');
    chmodSync(real, 0o640);
    const link = join(d, 'link.png');
    symlinkSync('real.png', link);
    await pipeline().toFile(image('link'), link);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('real.png');
    expect(readFileSync(real).equals(LAB_PNG)).toBe(true);
    expect(statSync(real).mode & 0o7777).toBe(0o640);

    const dangling = join(d, 'dangling.png');
    symlinkSync('later.png', dangling);
    await pipeline().toFile(image('dangling'), dangling);
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, 'later.png')).equals(LAB_PNG)).toBe(true);
    expect(readdirSync(d).sort()).toEqual(['dangling.png', 'later.png', 'link.png', 'real.png']);
  });

  it('a hard link is broken by the atomic replace (documented): the other name keeps the old bytes', async () => {
    const d = sub('hard');
    const a = join(d, 'a.png');
    writeFileSync(a, 'old');
    linkSync(a, join(d, 'b.png'));
    await pipeline().toFile(image('hard'), a);
    expect(readFileSync(a).equals(LAB_PNG)).toBe(true);
    expect(readFileSync(join(d, 'b.png'), 'utf8')).toBe('old');
  });

  it('an empty path or a directory is refused before any request', async () => {
    const p = pipeline();
    const before = origin.routes.hits('/image.png');
    await expect(p.toFile(image('empty'), '')).rejects.toMatchObject({ code: 'DETOUR_BAD_PATH' });
    await expect(p.toFile(image('dir'), dir)).rejects.toMatchObject({
      failureClass: 'local-io',
      code: 'EISDIR',
    });
    expect(origin.routes.hits('/image.png')).toBe(before);
  });
});

describe('local-io', () => {
  it('a missing directory: local-io naming the path, no request made, and the circuit stays closed', async () => {
    const p = pipeline(); // default circuit: opens after 5 failed fetches of a host
    const target = join(dir, 'no-such-dir', 'a.png');
    const before = origin.routes.hits('/image.png');
    for (let i = 0; i < 6; i++) {
      const error = (await p.toFile(image(`missing-${i}`), target).catch((e) => e)) as DetourError;
      expect(error).toMatchObject({ failureClass: 'local-io', code: 'ENOENT' });
      expect(error.message).toContain(target);
      expect(error.message).not.toContain('.detour-part');
    }
    expect(origin.routes.hits('/image.png')).toBe(before); // failed fast: no network
    const ok = await p.fetch(image('after-missing'));
    expect(ok.strategy).toBe('direct'); // not DETOUR_CIRCUIT_OPEN
  });

  it.skipIf(!isRoot)(
    `disk full (a 64 KiB tmpfs): local-io ENOSPC, no second strategy, nothing left, nothing cached, circuit closed${rootGate}`,
    async () => {
      const mnt = sub('full');
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
      try {
        const p = pipeline({ use: [second()], strategies: ['direct', 'second'] });
        const url = `${origin.url}/big?bytes=${1024 * 1024}&n=full`;
        const before = origin.routes.hits('/big');
        for (let i = 0; i < 5; i++) {
          const target = join(mnt, `big-${i}.bin`);
          const error = (await p.toFile(url, target).catch((e) => e)) as DetourError;
          expect(error).toMatchObject({ failureClass: 'local-io', code: 'ENOSPC' });
          expect(error.message).toContain(target);
          expect(error.message).not.toContain('.detour-part');
          expect(error.attempts.map((a) => [a.strategy, a.outcome, a.failureClass])).toEqual([
            ['direct', 'failed', 'local-io'],
            ['second', 'skipped', undefined], // not reached: local-io ends the fetch
          ]);
          expect(readdirSync(mnt)).toEqual([]);
        }
        expect(origin.routes.hits('/big')).toBe(before + 5); // one download each, no second one
        // Neither the positive nor the negative cache kept anything: the next fetch downloads.
        const fetched = await p.fetch(url);
        expect(fetched.fromCache).toBe(false);
        expect(fetched.bytes).toBe(1024 * 1024);
        expect(origin.routes.hits('/big')).toBe(before + 6);
      } finally {
        execFileSync('umount', [mnt]);
      }
    },
  );
});
