/** A real `redis-server` for tests: a child on 127.0.0.1 and a free port, no persistence. */
import { startChild } from './child.js';
import { makeTempDir } from './tmp.js';

export interface RunningRedis {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  close(): Promise<void>;
}

export async function startRedis(): Promise<RunningRedis> {
  const dir = makeTempDir('redis');
  const running = await startChild({
    bin: 'redis-server',
    pkg: 'redis-server',
    args: (port) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir.path,
    ],
  }).catch((error: unknown) => {
    dir.remove();
    throw error;
  });
  return {
    url: `redis://127.0.0.1:${running.port}`,
    port: running.port,
    pid: running.child.pid ?? -1,
    close: async () => {
      await running.close();
      dir.remove();
    },
  };
}
