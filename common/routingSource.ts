// What a routing result's source did not record (engine traces: gate weights, entropy, surprisal; prefix-cached
// tokens). Every view asks these before it shows a number, so a trace's placeholders never read as zeros. Pure.
import type { RoutingResult } from './protocol';

export type OptionalArray = NonNullable<RoutingResult['absent']>[number];

/** Shown wherever a value is missing because the trace does not carry it. */
export const NOT_IN_TRACE = 'not in the trace';
/** Shown for a token whose routing the engine did not record. */
export const NOT_RECORDED = 'not recorded';

/** Whether `r` carries real values in this array. */
export function has(r: Pick<RoutingResult, 'absent'>, array: OptionalArray): boolean {
  return !r.absent?.includes(array);
}

/** The tokens without routing, as a set (empty for the model's own results). */
export function notRecordedSet(r: { readonly notRecorded?: readonly number[] }): ReadonlySet<number> {
  return new Set(r.notRecorded ?? []);
}

/** A short description of the source for captions: "vLLM trace x.json" or undefined for the model. */
export function sourceCaption(r: Pick<RoutingResult, 'source'>): string | undefined {
  if (!r.source) return undefined;
  const file = r.source.file.slice(Math.max(r.source.file.lastIndexOf('/'), r.source.file.lastIndexOf('\\')) + 1);
  return `${r.source.engine === 'vllm' ? 'vLLM' : 'SGLang'} trace ${file}`;
}
