/**
 * The `detour` service: one Detour pipeline per plugin instance, built by the composition root
 * (`createDetour`) when Koishi starts the plugin and closed when the plugin is disposed.
 */
import { join } from 'node:path';
import type { FetchOptions, FetchResult, FileResult, Pipeline, StreamResult } from '@detour/core';
import { DetourUsageError } from '@detour/core';
import { createDetour } from 'detour';
import type { Context } from 'koishi';
import { type Config, detourOptions } from './config.js';
import { Service } from './koishi.js';
import { koishiPinoLogger } from './logger.js';

declare module 'koishi' {
  interface Context {
    detour: DetourService;
  }
}

export class DetourService extends Service<Config> {
  // TS-private, not `#private`: Koishi hands out `ctx.detour` through a Proxy (service tracking),
  // and `#fields` cannot be read through a Proxy.
  private current: Pipeline | undefined;
  private disposed = false;

  constructor(ctx: Context, config: Config) {
    // Not `immediate`: `ctx.detour` appears only once `start()` has built the pipeline, so a plugin
    // that declares `inject: ['detour']` never sees a service that cannot download yet.
    super(ctx, 'detour');
    this.config = config;
  }

  /** Detect the environment and compose every strategy (called by Koishi when the plugin starts). */
  protected override async start(): Promise<void> {
    const logger = koishiPinoLogger(this.ctx.logger('detour'), this.config.logLevel);
    // Koishi's loader provides `baseDir` (the instance's directory); what Detour learns lives in
    // its data directory, beside other plugins' data. Without a loader (an App in a test): in process.
    const baseDir = (this.ctx as { baseDir?: unknown }).baseDir;
    const state =
      this.config.state !== false && typeof baseDir === 'string'
        ? join(baseDir, 'data', 'detour')
        : undefined;
    const pipeline = await createDetour({
      ...detourOptions(this.config, logger),
      ...(state ? { state } : {}),
    });
    if (this.disposed) {
      // Disposed while detection ran: nothing may outlive the plugin.
      await pipeline.close();
      return;
    }
    this.current = pipeline;
    this.ctx.logger('detour').debug('strategies: %s', pipeline.strategyNames.join(', '));
  }

  /** Close the pipeline: sockets, curl children, timers, cache (called by Koishi on dispose). */
  protected override async stop(): Promise<void> {
    this.disposed = true;
    const pipeline = this.current;
    this.current = undefined;
    await pipeline?.close();
  }

  /** The underlying pipeline (for what the three methods below do not cover: `planFor`, `openSockets`, …). */
  get pipeline(): Pipeline {
    if (!this.current) {
      throw this.disposed
        ? new DetourUsageError(
            'the detour service has been disposed (plugin reloaded or stopped)',
            'DETOUR_CLOSED',
          )
        : new DetourUsageError('the detour service has not started yet', 'DETOUR_NOT_READY');
    }
    return this.current;
  }

  /** Download into memory: `body`, plus how it was obtained (`strategy`, `attempts`, `degraded`, `fromCache`, …). */
  async fetch(url: string | URL, options?: FetchOptions): Promise<FetchResult> {
    return this.pipeline.fetch(url, options);
  }

  /** Download to a file, written atomically (nothing left at `path` on failure). */
  async toFile(url: string | URL, path: string, options?: FetchOptions): Promise<FileResult> {
    return this.pipeline.toFile(url, path, options);
  }

  /** Download as a stream (`body` is a Readable that errors with a DetourError mid-way if a limit breaks). */
  async stream(url: string | URL, options?: FetchOptions): Promise<StreamResult> {
    return this.pipeline.stream(url, options);
  }
}
