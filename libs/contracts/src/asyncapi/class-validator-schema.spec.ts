import { IsString, IsUUID, Matches } from 'class-validator';
import { TENANT_ID_PATTERN } from '../naming';
import { SubscriptionCancelledDto } from '../validation';
import { dtoJsonSchema } from './class-validator-schema';

class UnknownRuleDto {
  @IsUUID()
  id!: string;
}

class FlaggedPatternDto {
  @IsString()
  @Matches(/^abc$/i)
  code!: string;
}

describe('dtoJsonSchema', () => {
  it('reads the rules of a DTO and of its nested DTOs from their decorators', () => {
    expect(dtoJsonSchema(SubscriptionCancelledDto)).toEqual({
      type: 'object',
      required: ['event', 'timestamp', 'data'],
      properties: {
        event: { const: 'subscription.cancelled' },
        timestamp: { type: 'string', 'x-rules': [expect.stringContaining('isISO8601')] },
        data: {
          type: 'object',
          required: ['subscription_id', 'tenant_id'],
          properties: {
            subscription_id: { type: 'string', pattern: expect.any(String) },
            tenant_id: { type: 'string', pattern: TENANT_ID_PATTERN.source },
            // @IsOptional lets null through as well as a missing field.
            cancellation_reason: { anyOf: [{ type: 'string', maxLength: 200 }, { type: 'null' }] },
            effective_date: {
              anyOf: [
                { type: 'string', 'x-rules': [expect.stringContaining('isISO8601')] },
                { type: 'null' },
              ],
            },
          },
        },
      },
    });
  });

  it('refuses a rule it cannot state, naming the class and the property, rather than leave it out', () => {
    expect(() => dtoJsonSchema(UnknownRuleDto)).toThrow(
      'UnknownRuleDto.id: no JSON Schema for class-validator rule isUuid',
    );
    expect(() => dtoJsonSchema(FlaggedPatternDto)).toThrow(
      /FlaggedPatternDto\.code: @Matches needs .* without flags/,
    );
  });
});
