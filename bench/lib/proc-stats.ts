import { readFileSync, writeFileSync } from 'node:fs';

// Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. It is 100 on every
// mainstream kernel build; `getconf CLK_TCK` would say otherwise.
const CLOCK_TICKS = 100;

/** VmHWM (peak resident set) and VmRSS of a process, in bytes; null once it has exited. */
export function readMemory(pid: number): { peakRss: number; rss: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { peakRss: kib('VmHWM') * 1024, rss: kib('VmRSS') * 1024 };
}

/** User + system CPU seconds a process has used (all its threads), or null. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the `(comm)` which may itself hold spaces; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * Resets a process's VmHWM to its current resident set (Linux ≥ 4.0, `clear_refs` value 5),
 * so the next peak is that of the work that follows, not of start-up (PGlite's first open
 * and migrations alone peak near 1 GB, then settle). False where it is not possible.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Samples a child's memory while it runs. VmHWM is the kernel's own high-water mark, so
 * the samples cannot miss a short peak; sampling only keeps the last value readable after
 * the process has gone. Not on Linux, the figures stay 0.
 */
export function sampleMemory(pid: number, intervalMs = 200) {
  let peakRss = 0;
  let rss = 0;
  const sample = () => {
    const m = readMemory(pid);
    if (m) {
      peakRss = Math.max(peakRss, m.peakRss);
      rss = m.rss;
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    /** Reads once more and returns the peak and the latest resident set. */
    read(): { peakRss: number; rss: number } {
      sample();
      return { peakRss, rss };
    },
    /** Starts a new peak from now (see resetPeakRss); returns the peak until now. */
    resetPeak(): { peakRss: number; reset: boolean } {
      sample();
      const before = peakRss;
      const reset = resetPeakRss(pid);
      if (reset) peakRss = 0;
      sample();
      return { peakRss: before, reset };
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}

/**
 * CPU seconds the whole machine has been busy (all cores; idle and iowait excluded, steal
 * included since it is capacity taken by the hypervisor). Minus our own processes' CPU
 * over the same span, it says how much another load competed with the measurement.
 */
export function readMachineBusySeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user, nice, system, , , irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return (
      ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
      CLOCK_TICKS
    );
  } catch {
    return null;
  }
}
