import {
  applyDecorators,
  createParamDecorator,
  HttpCode,
  UseGuards,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { IDEMPOTENCY_KEY_POLICY } from '@app/tenancy';
import { header, type HttpRequest } from '../http/http.types';
import { OperatorRoleGuard } from './operator-role.guard';

/** How an operator action differs from a tenant action's defaults. */
export interface OperatorActionOptions {
  /** 200 for an action whose answer is its result (a reconciliation's report, a decision), not an acceptance. */
  status?: 200 | 202;
  /** The action's Idempotency-Key policy, where its scope or expiry is not a tenant action's. */
  idempotencyPolicy?: string;
}

/**
 * An operator's state change: answered 202 (the command is accepted, its effects follow) unless the route
 * says otherwise, refused to any role but operator (after the controller's `ApiTokenGuard` has named the
 * caller), with the optional `Idempotency-Key` header documented. Each route adds its own summary, body and
 * refusals.
 */
export function OperatorAction(options: OperatorActionOptions = {}): MethodDecorator {
  return applyDecorators(
    HttpCode(options.status ?? 202),
    UseGuards(OperatorRoleGuard),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: options.idempotencyPolicy ?? IDEMPOTENCY_KEY_POLICY,
    }),
  );
}

/** What an operator's request carries besides its path; the command validates every value. */
export interface OperatorInput {
  /** The token's name, recorded as the operator. */
  operator: string;
  idempotencyKey: string | undefined;
  /** A field of the JSON body (undefined when the body is no object). */
  field(name: string): unknown;
}

/** The parameter of an `OperatorAction` route: the operator, the `Idempotency-Key` and the body's fields. */
export const OperatorRequest = createParamDecorator(
  (_: unknown, context: ExecutionContext): OperatorInput => {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const body = request.body;
    return {
      operator: request.principal?.name ?? '',
      idempotencyKey: header(request, 'idempotency-key'),
      field: (name) =>
        body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined,
    };
  },
);
