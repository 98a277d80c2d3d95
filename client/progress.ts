/**
 * Upload progress that never goes backwards: each part counts the most bytes it ever had
 * accepted, so a retried part only adds once its new attempt passes the old one.
 */
export interface UploadProgress {
  bytesDone: number;
  bytesTotal: number;
  partsDone: number;
  partsTotal: number;
  /** Bytes sent by this run (excludes parts already stored when resuming), counted the same way. */
  bytesThisRun: number;
}

export class ProgressTracker {
  private readonly best = new Map<number, number>();
  private readonly finished = new Set<number>();
  private bytesDone: number;
  private partsDone: number;
  private readonly baseBytes: number;

  constructor(
    private readonly bytesTotal: number,
    private readonly partsTotal: number,
    already: { bytes: number; parts: number } = { bytes: 0, parts: 0 },
    private readonly onChange?: (p: UploadProgress) => void,
  ) {
    this.bytesDone = already.bytes;
    this.partsDone = already.parts;
    this.baseBytes = already.bytes;
  }

  /** `bytes` of part `n` were accepted by the connection during the current attempt. */
  update(n: number, bytes: number): void {
    const prev = this.best.get(n) ?? 0;
    if (bytes <= prev) return;
    this.best.set(n, bytes);
    this.bytesDone += bytes - prev;
    this.onChange?.(this.snapshot());
  }

  /** Part `n` (of `size` bytes) is stored. */
  done(n: number, size: number): void {
    if (this.finished.has(n)) return;
    this.finished.add(n);
    this.partsDone++;
    const prev = this.best.get(n) ?? 0;
    if (size > prev) {
      this.best.set(n, size);
      this.bytesDone += size - prev;
    }
    this.onChange?.(this.snapshot());
  }

  snapshot(): UploadProgress {
    return {
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      partsDone: this.partsDone,
      partsTotal: this.partsTotal,
      bytesThisRun: this.bytesDone - this.baseBytes,
    };
  }
}
