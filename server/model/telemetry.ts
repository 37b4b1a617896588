// Dependencies send nothing anywhere. onnxruntime 1.30's POSIX builds record telemetry events (model file name, graph
// and producer names, run counts, durations, error messages, a device id) in an SQLite queue under
// $XDG_CACHE_HOME/Microsoft/DeveloperTools/.onnxruntime/ for upload, unless ORT_DISABLE_TELEMETRY is set when the
// runtime environment is created — that is, before the first InferenceSession (checked: set after `require` but
// before the first session, no file appears; test/model/hostileModels.test.ts "item 4"). onnxruntime-node has no API for it.

/** Turns dependency telemetry off for this process (and the processes it starts). Idempotent. */
export function disableDependencyTelemetry(): void {
  process.env.ORT_DISABLE_TELEMETRY = '1';
}
