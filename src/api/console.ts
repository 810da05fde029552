// The web console: a single page (vanilla JS, no build step) served at / that uses the REST
// API like any other client. Its files live in src/api/console/ and are read once at start;
// tsc does not copy them, so from dist/src/api the source folder is found through the repo.
// The pages themselves need no token (the API calls do): the page asks for one on a 401.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

export const CONSOLE_FILES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const;
type ConsoleFile = keyof typeof CONSOLE_FILES;

// Only the page's own scripts and styles, calls to this origin, no framing: alert fields come
// from network traffic, and the page renders them as text, never as markup.
export const CONSOLE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

/** src/api/console (running from source) or the same folder seen from dist/src/api. */
export function consoleDir(): string {
  const candidates = [join(__dirname, 'console'), join(__dirname, '..', '..', '..', 'src', 'api', 'console')];
  const dir = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!dir) throw new Error(`web console files not found (looked in ${candidates.join(', ')})`);
  return dir;
}

export interface ConsoleOptions {
  /** Folder holding index.html, app.js and app.css (default: consoleDir()). */
  readonly dir?: string;
}

export const consolePlugin: FastifyPluginAsync<ConsoleOptions> = async (app, opts) => {
  const dir = opts.dir ?? consoleDir();
  const files = new Map<ConsoleFile, Buffer>();
  for (const name of Object.keys(CONSOLE_FILES) as ConsoleFile[]) files.set(name, readFileSync(join(dir, name)));

  const send = (reply: FastifyReply, name: ConsoleFile): FastifyReply =>
    reply
      .type(CONSOLE_FILES[name])
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(files.get(name));

  const pages: [string, ConsoleFile, string][] = [
    ['/', 'index.html', 'Web console'],
    ['/console/app.js', 'app.js', 'Web console script'],
    ['/console/app.css', 'app.css', 'Web console styles'],
  ];
  for (const [url, name, summary] of pages) {
    // hide: not part of the API's OpenAPI document (the convention fastify's swagger tools follow).
    const schema: Record<string, unknown> = { hide: true, summary };
    app.get(url, { config: { public: true, tag: 'console' }, schema }, async (req, reply) => send(reply, name));
  }
};
