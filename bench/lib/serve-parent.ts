/** The child side of the IPC protocol of lib/measured-child.ts (kept free of heavy imports: children are bundled). */

/** The child side: answer the parent's one input with `work(input)`, then exit. */
export function serveParent<I, O>(work: (input: I) => Promise<O>): void {
  process.once('message', (input: I) => {
    work(input).then(
      (result) => process.send?.({ result }, () => process.exit(0)),
      (error: Error) => process.send?.({ error: error?.stack ?? String(error) }, () => process.exit(1)),
    );
  });
  process.on('disconnect', () => process.exit(1));
}
