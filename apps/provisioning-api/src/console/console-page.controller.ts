import { createHash } from 'node:crypto';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { HttpResponse } from '../http/http.types';
import { consolePage } from './assets/page';
import { CONSOLE_CSS } from './assets/styles';
import { loadBrowserModules, missingModuleMessage } from './browser-modules';

/**
 * The page may load only its own scripts and stylesheet and talk only to this API: with every rendered value
 * set through `textContent`, this makes injected markup inert even if one slipped through.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const MODULES = loadBrowserModules();
const ASSET_VERSION = (() => {
  const hash = createHash('sha256');
  for (const [name, source] of MODULES) hash.update(name).update(source);
  return hash.update(CONSOLE_CSS).digest('hex').slice(0, 12);
})();
const PAGE = consolePage(ASSET_VERSION);

function send(response: HttpResponse, contentType: string, body: string): void {
  response.setHeader('content-type', contentType);
  response.setHeader('cache-control', 'no-cache');
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('referrer-policy', 'no-referrer');
  response.setHeader('content-security-policy', CONSOLE_CSP);
  response.setHeader('x-frame-options', 'DENY');
  response.status(200).end(body);
}

/**
 * Serves the operator console: one page, one stylesheet and the browser modules compiled from `browser/`
 * (`app.js` and the modules it imports); no data, so no authentication here.
 */
@ApiExcludeController()
@Controller('console')
export class ConsolePageController {
  @Get()
  page(@Res() response: HttpResponse): void {
    send(response, 'text/html; charset=utf-8', PAGE);
  }

  @Get('app.css')
  styles(@Res() response: HttpResponse): void {
    send(response, 'text/css; charset=utf-8', CONSOLE_CSS);
  }

  @Get(':module')
  script(@Param('module') name: string, @Res() response: HttpResponse): void {
    const source = MODULES.get(name);
    if (source === undefined) throw new NotFoundException(missingModuleMessage(MODULES, name));
    send(response, 'text/javascript; charset=utf-8', source);
  }
}
