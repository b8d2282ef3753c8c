/**
 * What to say when a download failed: the most telling failure among the attempts, and one line
 * on what to do about it. They live in the front-end kit (`detour/front-end`), shared with
 * `detour serve`'s failure body; re-exported here for the CLI's modules.
 */
export { adviceFor, type Failure, mostTelling, STRATEGY_FLAGS } from 'detour/front-end';
