/**
 * Parts prepared ahead of the uploaders: while parts are on the wire, the next `depth()` are
 * already being read and hashed, so an uploader whose PUT ended starts the next one at once
 * instead of first waiting for a read and an MD5 (on loopback that wait left sockets idle for
 * a third of the time). Items come out in the order they were started.
 */
export class ReadAhead<T> {
  private readonly queue: Promise<T | undefined>[] = [];
  private dry = false;

  /** `prepare`: the next item, or undefined once there are none; `depth`: items to keep ready. */
  constructor(
    private readonly prepare: () => Promise<T | undefined>,
    private readonly depth: () => number,
  ) {}

  /** The next item (the oldest started), then the look-ahead topped up behind it. */
  take(): Promise<T | undefined> {
    const head = this.queue.shift() ?? this.start();
    this.fill();
    return head;
  }

  /** Items started but never taken (a stop or a failure ended the run), once they settled. */
  async leftovers(): Promise<T[]> {
    const rest = await Promise.allSettled(this.queue.splice(0));
    this.dry = true;
    return rest.flatMap((r) => (r.status === 'fulfilled' && r.value !== undefined ? [r.value] : []));
  }

  private fill(): void {
    while (!this.dry && this.queue.length < this.depth()) this.queue.push(this.start());
  }

  private start(): Promise<T | undefined> {
    const p = this.prepare();
    // Also marks a failure handled: an item read ahead may fail before anyone takes it.
    p.then(
      (v) => {
        if (v === undefined) this.dry = true;
      },
      () => {
        this.dry = true;
      },
    );
    return p;
  }
}
