import { ForbiddenException, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { HttpRequest } from '../http/http.types';

/**
 * Runs after `ApiTokenGuard` (which answers 401 and sets the principal): auditors may read but not act, so any
 * role other than operator gets a 403.
 */
@Injectable()
export class OperatorRoleGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    if (request.principal?.role !== 'operator') {
      throw new ForbiddenException('operator role required');
    }
    return true;
  }
}
