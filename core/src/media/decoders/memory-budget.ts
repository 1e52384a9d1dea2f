/**
 * A byte budget shared by concurrent jobs: each asks for its estimated peak and waits, in
 * arrival order, until that fits beside the jobs already running. A job bigger than the whole
 * budget runs alone rather than never.
 */
export class MemoryBudget {
  private used = 0;
  private readonly waiting: { bytes: number; start: () => void }[] = [];

  constructor(readonly bytes: number) {}

  /** Resolves when `bytes` may be used; call the returned function when they are freed. */
  async acquire(bytes: number): Promise<() => void> {
    if (this.waiting.length > 0 || !this.fits(bytes)) {
      await new Promise<void>((start) => this.waiting.push({ bytes, start }));
    } else {
      this.used += bytes;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.drain();
    };
  }

  /** Bytes granted and not yet released. */
  get inUse(): number {
    return this.used;
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.bytes;
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      if (!next || !this.fits(next.bytes)) return;
      this.waiting.shift();
      this.used += next.bytes;
      next.start();
    }
  }
}
