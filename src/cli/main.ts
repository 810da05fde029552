// iotwatch: the command line. Exit codes: 0 success, 1 runtime error (bad input file,
// unreachable store), 2 usage error.
import { CaptureFormatError } from '../capture/format';
import { CliError } from './common';

export const MAIN_HELP = `usage: iotwatch COMMAND [options]

Passive MQTT and CoAP security monitoring.

commands:
  decode FILE...     decode captures into one JSON event per line (--summary for counts)
  analyze FILE...    run every detector over captures: alert summary (--json: one alert per line)
  learn FILE... -o B learn baselines from known-good captures for analyze --baseline B
  detectors          the detector catalogue (--markdown, --json)
  serve              serve the REST API and web console over the alert store
  sensor -i IFACE    the whole service on a SPAN port: live capture, detectors, store, API

Run 'iotwatch COMMAND --help' for a command's options.
exit codes: 0 success, 1 error (unreadable or invalid input, store failure), 2 usage error
`;

type Command = (argv: string[]) => Promise<number>;

// Each command's modules load when it runs: decode need not load the detectors, the store,
// fastify or ClickHouse (start-up is a real share of a short capture's run time).
/* eslint-disable @typescript-eslint/no-require-imports */
const COMMANDS: Record<string, () => Command> = {
  decode: () => (require('./decode') as typeof import('./decode')).decodeCommand,
  analyze: () => (require('./analyze') as typeof import('./analyze')).analyzeCommand,
  learn: () => (require('./analyze') as typeof import('./analyze')).learnCommand,
  detectors: () => (require('./detectors') as typeof import('./detectors')).detectorsCommand,
  serve: () => (require('./service') as typeof import('./service')).serveCommand,
  sensor: () => (require('./service') as typeof import('./service')).sensorCommand,
};

export async function main(argv: string[]): Promise<number> {
  // A reader that closes the pipe early (`| head`) ends the output, not with a crash.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(MAIN_HELP);
    return cmd === undefined ? 2 : 0;
  }
  const load = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!load) {
    process.stderr.write(`iotwatch: unknown command ${JSON.stringify(cmd)}\n${MAIN_HELP}`);
    return 2;
  }
  try {
    return await load()(rest);
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CliError) {
    process.stderr.write(`iotwatch: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof CaptureFormatError) {
    process.stderr.write(`${err.message.startsWith('iotwatch:') ? '' : 'iotwatch: '}${err.message}\n`);
    return 1;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR')) {
    process.stderr.write(`iotwatch: ${e.path ?? ''}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : 'is a directory'}\n`);
    return 1;
  }
  // ERR_PARSE_ARGS_* from node:util parseArgs: a usage error.
  if (e && typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`iotwatch: ${e.message}\n`);
    return 2;
  }
  process.stderr.write(`iotwatch: internal error: ${e?.stack ?? String(err)}\n`);
  return 1;
}
