// What every service's entry point does around its work: one JSON `ready` line on stdout (the launcher and
// the tests wait for it), and a clean stop on the first SIGINT / SIGTERM: log, shut down, exit 0, or log
// the failure and exit 1. A second signal while stopping is ignored.

export function announceReady(service: string, address?: string): void {
  const line = address === undefined ? { event: 'ready', service } : { event: 'ready', service, address };
  process.stdout.write(`${JSON.stringify({ ...line, pid: process.pid })}\n`);
}

export function exitOnStopSignals(
  log: (message: string) => void,
  /** What the log says the service does on a signal, e.g. 'draining'. */
  verb: string,
  shutdown: (signal: string) => Promise<void>,
): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: ${verb}`);
    shutdown(signal).then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log(`shutdown failed: ${(err as Error).stack ?? String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
