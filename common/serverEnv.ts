// Environment the client gives the server process (extension/languageClient.ts; bench/soak.ts does the same).
// glibc raises its mmap threshold each time a large block is freed, after which multi-megabyte buffers (KV caches,
// model outputs) come from the heap and their memory is rarely returned when documents close. A fixed threshold
// keeps every block over 128 KiB in its own mapping, released on free: in the quick soak, RSS after all documents
// closed went from 32.6% over its warm baseline to 15.7% (and the baseline itself from 231 to 182 MB). glibc reads
// it once at start, so it must be set by whoever starts the process. Ignored by other C libraries.
export const SERVER_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072' };
