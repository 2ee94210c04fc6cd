import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Router, static as serveStatic, type Request, type Response } from 'express';

/** The run inspector's build (`npm run build` bundles apps/inspector there), beside the gateway's own output. */
export const INSPECTOR_DIR = join(__dirname, '..', '..', '..', 'inspector');

/**
 * The page loads only its own files and talks only to this server: no inline script or style, no
 * other origin, no framing. Preact sets the waterfall's widths through the CSSOM, which style-src
 * does not govern.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Bundles are named by their content's hash, so a browser may keep them for good; index.html is asked anew each time. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * `/ui`: the run inspector's static files, served without an API key (the page then calls the API
 * with the key its user enters), and `/` sends a browser there. Anything missing is a 404 with a
 * `detail`, like the API's.
 */
export function inspectorRoutes(directory = INSPECTOR_DIR): Router {
  const router = Router({ strict: true });
  router.get('/', (_request, response) => response.redirect(302, '/ui/'));
  router.get('/ui', (_request, response) => response.redirect(301, '/ui/'));
  router.use('/ui', (_request, response, next) => {
    response.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
    response.setHeader('x-content-type-options', 'nosniff');
    response.setHeader('referrer-policy', 'no-referrer');
    response.setHeader('cross-origin-opener-policy', 'same-origin');
    next();
  });
  if (existsSync(directory)) {
    router.use(
      '/ui',
      serveStatic(directory, {
        index: 'index.html',
        redirect: false,
        dotfiles: 'ignore',
        setHeaders: (response, path) => response.setHeader('cache-control', path.includes(`${join('assets', '')}`) ? IMMUTABLE : 'no-cache'),
      }),
    );
  }
  router.use('/ui', (request: Request, response: Response) => {
    const detail = existsSync(directory) ? `Not found: ${request.originalUrl.split('?')[0]}` : 'The run inspector is not built: run npm run build';
    response.status(404).json({ detail });
  });
  return router;
}
