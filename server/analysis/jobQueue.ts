// Model calls run one at a time. Which waiting job runs next is decided when the model is free, not when the job was
// queued: jobs that are already obsolete first (they only settle their callers, no model work), then documents on
// screen, then the rest in arrival order. With 20 documents edited at once, the one the user looks at is not
// stuck behind 19 others.

interface Waiting {
  seq: number;
  priority: () => number;
  /** runs the job and settles its caller; never rejects */
  start: () => Promise<void>;
}

export class JobQueue {
  private readonly waiting: Waiting[] = [];
  private running = false;
  private seq = 0;

  /** `onIdle`: called whenever the queue runs dry */
  constructor(private readonly onIdle?: () => void) {}

  /** Runs `job` when its turn comes; lower `priority()` runs first, asked again each time the model frees up. */
  run<T>(job: () => Promise<T>, priority: () => number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = async () => {
        try {
          resolve(await job());
        } catch (e) {
          reject(e);
        }
      };
      this.waiting.push({ seq: this.seq++, priority, start });
      void this.pump();
    });
  }

  /** jobs waiting or running */
  get size(): number {
    return this.waiting.length + (this.running ? 1 : 0);
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    while (this.waiting.length) {
      let best = 0;
      let bestP = Infinity;
      for (let i = 0; i < this.waiting.length; i++) {
        const p = this.waiting[i].priority();
        if (p < bestP) [best, bestP] = [i, p]; // strict: ties keep the earliest (the array is in arrival order)
      }
      const [next] = this.waiting.splice(best, 1);
      await next.start();
    }
    this.running = false;
    this.onIdle?.();
  }
}
