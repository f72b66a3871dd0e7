import { type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { InvalidArgumentError, type FieldErrors } from '@berth/domain';

/** The one way bodies are validated: a zod schema, per-field messages, InvalidArgumentError. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const fields: FieldErrors = {};
  for (const issue of r.error.issues) {
    const key = issue.path.length ? issue.path.map(String).join('.') : '_';
    (fields[key] ??= []).push(issue.message);
  }
  throw new InvalidArgumentError('invalid request', fields);
}

export class ZodPipe<S extends z.ZodType> implements PipeTransform {
  constructor(private readonly schema: S) {}
  transform(value: unknown): z.infer<S> {
    return parseWith(this.schema, value);
  }
}
