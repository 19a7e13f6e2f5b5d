/**
 * What keeps `npm start` up: once the sandbox is ready, an unhandled rejection or an uncaught
 * exception anywhere (a timer, a callback, a promise nobody awaited) is logged and survived, so
 * one bad request or a race with the emulator never takes the whole sandbox down. Before it is
 * ready, the same is a failed start: `onFatal` ends the process non-zero.
 */
export interface ProcessGuardOptions {
  /** True once the sandbox serves requests. */
  readonly isReady: () => boolean;
  /** Called for an escape before the sandbox is ready (stop everything, exit non-zero). */
  readonly onFatal: () => void;
  readonly log: (line: string) => void;
}

const describe = (error: unknown) =>
  error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);

/** Installs the handlers on `target` (the process); returns a function that removes them. */
export function installProcessGuard(options: ProcessGuardOptions, target: NodeJS.Process = process): () => void {
  const survive = (kind: string) => (error: unknown) => {
    const ready = options.isReady();
    try {
      options.log(`[sandbox] ${kind}${ready ? ' (the sandbox keeps running)' : ' while starting'}: ${describe(error)}`);
    } catch {
      // Nothing may escape from here: it would come straight back.
    }
    if (!ready) options.onFatal();
  };
  const onRejection = survive('unhandled rejection');
  const onException = survive('uncaught exception');
  target.on('unhandledRejection', onRejection);
  target.on('uncaughtException', onException);
  return () => {
    target.off('unhandledRejection', onRejection);
    target.off('uncaughtException', onException);
  };
}
