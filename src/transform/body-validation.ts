import { getMetadataStorage, ValidationTypes, type ValidationArguments, type ValidatorConstraintInterface } from 'class-validator';
import { ApiError } from '../errors/api-error.js';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';

/** The 400 for a body that cannot be used, each problem named. */
export const invalidBody = (problems: string[]) => new ApiError(400, ERROR_SENTENCES.invalidBody, problems);

/**
 * The `data` field of a parsed body, or the 400 that says what the body should have been.
 * @param shape what the route takes, e.g. "a JSON object or a form".
 */
export function dataOf(body: unknown, shape: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidBody([`the body must be ${shape} with a data field`]);
  }
  if (!Object.hasOwn(body, 'data')) throw invalidBody(['data is required']);
  return (body as { data: unknown }).data;
}

/** The limits a DTO rule may check, from the app's configuration (`transformConfig`). */
export interface InputLimits {
  readonly maxInputLength: number;
  readonly batchMaxItems: number;
}

/**
 * A rule's constraint that names one of the {@link InputLimits}: the DTO classes are shared by
 * every app in the process, so the number is filled in by {@link compileValidation}, from the
 * limits of the app whose pipe compiles the rules.
 */
export class ConfiguredLimit {
  constructor(readonly name: keyof InputLimits) {}
}

/** The number a rule declared with a {@link ConfiguredLimit} constraint checks against. */
export const limitOf = (args: ValidationArguments): number => args.constraints[0] as number;

interface CompiledRule {
  readonly property: string;
  readonly constraints: unknown[];
  readonly message: ValidationMetadataMessage;
  readonly validator: ValidatorConstraintInterface;
}
type ValidationMetadataMessage = string | ((args: ValidationArguments) => string) | undefined;

/**
 * A DTO's class-validator rules, read from class-validator's metadata storage once, as a function
 * that runs them like `validateSync(dto, { stopAtFirstError: true })` does: each property's rules
 * in declaration order, the first failure's message per property. `validateSync` looks the same
 * metadata up again on every call, a visible share of a cache hit's CPU; the DTO stays the one source
 * of the rules, for validation and for the OpenAPI schema. A {@link ConfiguredLimit} constraint is
 * replaced here by the number in `limits`. Only plain, synchronous property rules
 * are supported: anything else (nested, conditional, `each`, groups, async, `$token` messages) stops
 * start-up here rather than being silently skipped.
 */
export function compileValidation<T extends object>(target: new () => T, limits?: InputLimits): (object: T) => string[] {
  const storage = getMetadataStorage();
  const rules: CompiledRule[] = storage.getTargetValidationMetadatas(target, '', false, false).map((metadata) => {
    const where = `${target.name}.${metadata.propertyName}`;
    const plain =
      metadata.type === ValidationTypes.CUSTOM_VALIDATION &&
      !metadata.each &&
      !metadata.validateIf &&
      !metadata.context &&
      !(metadata.groups?.length > 0) &&
      !(typeof metadata.message === 'string' && metadata.message.includes('$'));
    const constraints = plain ? storage.getTargetValidatorConstraints(metadata.constraintCls) : [];
    if (!plain || constraints.length !== 1 || constraints[0].async) {
      throw new Error(`${where}: a ${metadata.type} rule the compiled validation does not support; extend compileValidation or use validateSync`);
    }
    return {
      property: metadata.propertyName,
      constraints: (metadata.constraints ?? []).map((constraint: unknown) => {
        if (!(constraint instanceof ConfiguredLimit)) return constraint;
        if (!limits) throw new Error(`${where}: a rule checks ${constraint.name}; compile it with the app's limits`);
        return limits[constraint.name];
      }),
      message: metadata.message as ValidationMetadataMessage,
      validator: constraints[0].instance as ValidatorConstraintInterface,
    };
  });
  const properties = [...new Set(rules.map((rule) => rule.property))].map((property) => ({
    property,
    rules: rules.filter((rule) => rule.property === property),
  }));

  return (object) => {
    const problems: string[] = [];
    for (const { property, rules: propertyRules } of properties) {
      const value = (object as Record<string, unknown>)[property];
      for (const rule of propertyRules) {
        const args: ValidationArguments = { targetName: target.name, property, object, value, constraints: rule.constraints };
        if (rule.validator.validate(value, args)) continue;
        const { message } = rule;
        problems.push(typeof message === 'function' ? message(args) : (message ?? rule.validator.defaultMessage?.(args) ?? `${property} is invalid`));
        break;
      }
    }
    return problems;
  };
}
