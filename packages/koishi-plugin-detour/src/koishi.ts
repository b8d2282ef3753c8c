/**
 * Koishi's runtime values, loaded through its CommonJS entry. That is the module a Koishi app
 * loads (its loader `require`s plugins and itself), so `Service` here is the very class the app's
 * contexts know; Koishi 4.18's ESM entry also fails to import on Node (koishijs/koishi#1511: its
 * loader does `import Loader from './shared.js'` on a CommonJS file). Types come from the normal
 * `import type`.
 */
import { createRequire } from 'node:module';
import type * as Koishi from 'koishi';

const koishi = createRequire(import.meta.url)('koishi') as typeof Koishi;

export const Schema: typeof Koishi.Schema = koishi.Schema;
export const Service: typeof Koishi.Service = koishi.Service;
