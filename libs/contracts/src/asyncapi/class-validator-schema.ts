import 'reflect-metadata';
import { getMetadataStorage, ValidationTypes, type MetadataStorage } from 'class-validator';

/**
 * The JSON Schema (draft-07, as AsyncAPI schemas are) of a class-validator DTO, read from the decorators
 * themselves, so a published schema cannot drift from the rules intake enforces. Only the decorators the
 * contracts use are known; any other one throws, naming the class and property, rather than be left out.
 * Properties are not closed (`additionalProperties` stays open): intake strips unknown fields (`whitelist`),
 * it does not refuse them.
 */
export type JsonSchema = { [keyword: string]: unknown };

type Dto = abstract new () => object;
type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

/** Rules JSON Schema cannot state exactly (validator.js checks), said in words beside the closest keywords. */
function constraintSchema(metadata: ValidationMetadata, where: string): JsonSchema {
  const [first] = (metadata.constraints ?? []) as unknown[];
  switch (metadata.name) {
    case 'isString':
      return { type: 'string' };
    case 'equals':
      return { const: first };
    case 'isIn':
      return { enum: first };
    case 'maxLength':
      return { maxLength: first };
    case 'min':
      return { minimum: first };
    case 'isObject':
      return { type: 'object' };
    case 'isNumber':
      return { type: 'number', 'x-rules': [`isNumber ${JSON.stringify(first ?? {})}`] };
    case 'isEmail':
      return {
        type: 'string',
        format: 'email',
        'x-rules': ['isEmail: no quoted local part, no angle brackets'],
      };
    case 'isIso8601':
      return { type: 'string', 'x-rules': ['isISO8601 (strict): an ISO 8601 date or date-time'] };
    case 'matches': {
      if (!(first instanceof RegExp) || first.flags !== '') {
        throw new Error(`${where}: @Matches needs a regular expression without flags to become a pattern`);
      }
      return { type: 'string', pattern: first.source };
    }
    default:
      throw new Error(`${where}: no JSON Schema for class-validator rule ${metadata.name ?? metadata.type}`);
  }
}

/** Merges the keywords of each rule of one property; `x-rules` lists add up, a conflict throws. */
function merge(into: JsonSchema, part: JsonSchema, where: string): void {
  for (const [keyword, value] of Object.entries(part)) {
    if (keyword === 'x-rules') {
      into[keyword] = [...((into[keyword] as string[] | undefined) ?? []), ...(value as string[])];
    } else if (keyword in into && JSON.stringify(into[keyword]) !== JSON.stringify(value)) {
      throw new Error(`${where}: rules disagree on ${keyword}`);
    } else {
      into[keyword] = value;
    }
  }
}

/**
 * The class of a `@ValidateNested()` property, as TypeScript records it (`design:type`, emitted for decorated
 * properties): the same class its `@Type(() => …)` names for class-transformer in the contracts' DTOs.
 */
function nestedDto(dto: Dto, property: string, where: string): Dto {
  const type: unknown = Reflect.getMetadata('design:type', dto.prototype as object, property);
  const known =
    typeof type === 'function' &&
    getMetadataStorage().getTargetValidationMetadatas(type, '', true, false).length > 0;
  if (!known) throw new Error(`${where}: a nested DTO must be declared with its class as the property type`);
  return type as Dto;
}

export function dtoJsonSchema(dto: Dto, seen: readonly Dto[] = []): JsonSchema {
  if (seen.includes(dto)) throw new Error(`${dto.name}: nested DTOs form a cycle`);
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(dto as never, '', true, false);
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const metadata of metadatas) {
    byProperty.set(metadata.propertyName, [...(byProperty.get(metadata.propertyName) ?? []), metadata]);
  }
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [property, rules] of byProperty) {
    const where = `${dto.name}.${property}`;
    const schema: JsonSchema = {};
    let optional = false;
    for (const rule of rules) {
      if (rule.each) throw new Error(`${where}: rules on each array item are not supported`);
      if (rule.type === ValidationTypes.CONDITIONAL_VALIDATION) optional = true;
      else if (rule.type === ValidationTypes.NESTED_VALIDATION) {
        merge(schema, dtoJsonSchema(nestedDto(dto, property, where), [...seen, dto]), where);
      } else if (rule.type === ValidationTypes.CUSTOM_VALIDATION)
        merge(schema, constraintSchema(rule, where), where);
      else throw new Error(`${where}: no JSON Schema for class-validator rule type ${rule.type}`);
    }
    // @IsOptional skips every rule for null as for undefined.
    properties[property] = optional ? { anyOf: [schema, { type: 'null' }] } : schema;
    if (!optional) required.push(property);
  }
  return { type: 'object', properties, required };
}
