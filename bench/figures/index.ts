/** The figures, in order. Each lives in its own file and is imported only when it runs. */
import type { Figure } from '../lib/types.js';

export interface FigureEntry {
  id: number;
  key: string;
  title: string;
  load(): Promise<Figure>;
}

export const FIGURES: readonly FigureEntry[] = [
  {
    id: 1,
    key: 'overhead',
    title: 'Happy-path overhead vs raw got (HTTPS keep-alive)',
    load: async () => (await import('./1-overhead.js')).figure,
  },
  {
    id: 2,
    key: 'legacy-tls-rescue',
    title: 'Rescue time vs a legacy-TLS origin',
    load: async () => (await import('./2-legacy-rescue.js')).figure,
  },
  {
    id: 3,
    key: 'accelerator-rescue',
    title: 'Rescue time behind a broken accelerator',
    load: async () => (await import('./3-accelerator-rescue.js')).figure,
  },
  {
    id: 4,
    key: 'memory',
    title: 'Memory: 1 GiB streamed to a file',
    load: async () => (await import('./4-memory.js')).figure,
  },
  {
    id: 5,
    key: 'scale',
    title: 'Scale: 10,000 downloads, 256 in flight, 100 hosts',
    load: async () => (await import('./5-scale.js')).figure,
  },
  {
    id: 6,
    key: 'cache',
    title: 'Cache hits vs a network fetch',
    load: async () => (await import('./6-cache.js')).figure,
  },
  {
    id: 7,
    key: 'curl-cost',
    title: 'curl strategy cost vs the in-process path',
    load: async () => (await import('./7-curl-cost.js')).figure,
  },
  {
    id: 8,
    key: 'serve',
    title: 'detour serve over loopback HTTP vs in-process pipeline.fetch',
    load: async () => (await import('./8-serve.js')).figure,
  },
  {
    id: 9,
    key: 'startup',
    title: 'Start-up: the detour command vs node and a one-shot got script',
    load: async () => (await import('./9-startup.js')).figure,
  },
  {
    id: 10,
    key: 'convert',
    title: 'SILK → WAV and MP3: conversion cost and the event loop of detour serve while converting',
    load: async () => (await import('./10-convert.js')).figure,
  },
];
