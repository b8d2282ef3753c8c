/**
 * Listening to an abort signal that many fetches share. Node's EventTarget checks every listener
 * already there before it adds one (and again to remove one), so a pipeline's close() signal, heard
 * by each of 64 or 256 fetches in flight, costs each fetch a walk of that list twice. A signal
 * marked `fanOut` gets one listener of its own that calls a Set of listeners: adding and removing
 * one is then constant time. A signal whose owner aborts it (`OwnedAbortController`) has no
 * EventTarget listener at all. Any other signal (a caller's) gets one while anything listens.
 */
const FAN = Symbol('detour.abortListeners');
/**
 * A signal with a Set of listeners of its own, held as a property of the signal: nothing else grows
 * with the signals made per attempt.
 */
type Fanned = AbortSignal & { [FAN]?: Set<() => void> };

function callOnce(listeners: Set<() => void>): void {
  const now = [...listeners];
  listeners.clear();
  for (const listener of now) listener();
}

/** Marks a long-lived signal that many callers listen to (call once, before they listen). */
export function fanOut(signal: AbortSignal): void {
  const fanned = signal as Fanned;
  if (fanned[FAN]) return;
  const listeners = new Set<() => void>();
  fanned[FAN] = listeners;
  signal.addEventListener('abort', () => callOnce(listeners), { once: true });
}

/**
 * The listeners on a signal Detour neither owns nor fanned out (a caller's), while any listen: one
 * EventTarget listener per signal however many fetches share it. Node warns of a leak past ten
 * listeners on one signal, and a bot may hand one shutdown signal to every fetch it starts.
 */
interface Borrowed {
  readonly listeners: Set<() => void>;
  /** The one EventTarget listener: calls the listeners once. */
  readonly heard: () => void;
}
const borrowed = new WeakMap<AbortSignal, Borrowed>();

function borrow(signal: AbortSignal): Borrowed {
  const group: Borrowed = {
    listeners: new Set(),
    heard: () => {
      if (borrowed.get(signal) === group) borrowed.delete(signal);
      callOnce(group.listeners);
    },
  };
  borrowed.set(signal, group);
  signal.addEventListener('abort', group.heard, { once: true });
  return group;
}

/**
 * Calls `listener` once when `signal` aborts (never when it already has: check `aborted` first).
 * Returns what removes it.
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  const fan = (signal as Fanned)[FAN];
  if (fan) {
    fan.add(listener);
    return () => fan.delete(listener);
  }
  const group = borrowed.get(signal) ?? borrow(signal);
  group.listeners.add(listener);
  return () => {
    if (!group.listeners.delete(listener) || group.listeners.size > 0) return;
    signal.removeEventListener('abort', group.heard);
    if (borrowed.get(signal) === group) borrowed.delete(signal);
  };
}

/**
 * An AbortController that is the only one to abort its signal, so what `onAbort` adds to that
 * signal is a Set it calls right after, not an EventTarget listener (~4 µs to add and remove on
 * Node 20). For the signals Detour makes per call: an attempt's, a call's own under close(), a
 * shared download's.
 */
export class OwnedAbortController {
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #listeners = new Set<() => void>();

  constructor() {
    this.signal = this.#controller.signal;
    (this.signal as Fanned)[FAN] = this.#listeners;
  }

  /** Aborts the signal once: its EventTarget listeners, then those `onAbort` added. */
  abort(reason?: unknown): void {
    if (this.signal.aborted) return;
    this.#controller.abort(reason);
    callOnce(this.#listeners);
  }
}
