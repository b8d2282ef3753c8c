/**
 * The portable path (issue 13): headers through a plain file, no FIFO and no mkfifo, so the same
 * code runs on Windows; the CA bundle written once per strategy instance and removed by close().
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPipeline } from '@detour/core';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CurlStrategy, locateExecutable } from '../src/index.js';

let lab: Lab;
const scratch = mkdtempSync(join(tmpdir(), 'detour-curl-nofifo-'));
const curlPath = locateExecutable('curl', process.env)!;

beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Every file under the scratch dir, with its kind. */
function files(): { name: string; fifo: boolean; file: boolean }[] {
  return readdirSync(scratch, { recursive: true, encoding: 'utf8' }).map((name) => {
    const stat = statSync(join(scratch, name));
    return { name, fifo: stat.isFIFO(), file: stat.isFile() };
  });
}

describe('curl without FIFOs', () => {
  it('needs neither mkfifo nor anything else on PATH', async () => {
    const strategy = new CurlStrategy({ curlPath, env: { PATH: '' }, tmpDir: scratch });
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      ca: lab.ca,
      use: [strategy],
      strategies: ['curl'],
    });
    try {
      const result = await pipeline.fetch(`${lab.https.url}/image.png`);
      expect(result.body.equals(LAB_PNG)).toBe(true);
    } finally {
      await pipeline.close();
    }
  });

  it('reads the head from a plain file while the body streams; one CA bundle per strategy, gone after close()', async () => {
    const strategy = new CurlStrategy({ curlPath, tmpDir: scratch });
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      ca: lab.ca,
      use: [strategy],
      strategies: ['curl'],
    });
    try {
      for (let i = 0; i < 3; i++) await pipeline.fetch(`${lab.https.url}/image.png?n=${i}`);
      const caBefore = files().filter((f) => /ca-\d+\.pem$/.test(f.name));
      expect(caBefore).toHaveLength(1);
      const caPath = join(scratch, caBefore[0]!.name);
      const written = statSync(caPath).mtimeMs;

      const streamed = await pipeline.stream(`${lab.https.url}/slow-drip?ms=50&bytes=200`);
      streamed.body.on('error', () => {});
      const during = files();
      expect(during.some((f) => f.fifo)).toBe(false);
      const heads = during.filter((f) => /head-\d+-\d+$/.test(f.name));
      expect(heads).toHaveLength(1);
      expect(heads[0]!.file).toBe(true);
      streamed.body.destroy();

      await pipeline.fetch(`${lab.https.url}/image.png?n=last`);
      expect(statSync(caPath).mtimeMs).toBe(written); // reused, not rewritten
    } finally {
      await pipeline.close();
    }
    expect(files()).toEqual([]);
  });
});
