/**
 * Small async building blocks for the client: a permit semaphore, cancellable sleeps, and a
 * bounded hand-off queue. Runtime-neutral (only `setTimeout`), so it runs under Deno and Node.
 *
 * Private to `client/`.
 *
 * @module
 */

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The reason an aborted signal carries, as an Error. */
export function abortReason(signal: AbortSignal, what: string): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException(`${what} was aborted`, "AbortError");
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
  cleanup?: () => void;
}

/**
 * Counting semaphore. `acquire()` waits for a permit, in FIFO order; `release()` hands one back.
 * Waiters are bounded by the caller: every acquire is made by a caller that holds its own state.
 */
export class Semaphore {
  #available: number;
  readonly #waiters: Waiter[] = [];
  #head = 0;
  #closedError: Error | undefined;

  constructor(permits: number) {
    if (!Number.isInteger(permits) || permits < 1) {
      throw new RangeError(`Cannot create semaphore: permits must be a positive integer, got ${permits}`);
    }
    this.#available = permits;
  }

  /** Permits free right now. */
  get available(): number {
    return this.#available;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiters.length - this.#head;
  }

  /** Takes a permit now if one is free. */
  tryAcquire(): boolean {
    if (this.#closedError) throw this.#closedError;
    if (this.#available > 0 && this.waiting === 0) {
      this.#available--;
      return true;
    }
    return false;
  }

  /**
   * Waits for a permit.
   *
   * @throws the `close()` error once closed, or the abort reason of `signal`.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    if (this.#available > 0 && this.waiting === 0) {
      this.#available--;
      return Promise.resolve();
    }
    if (signal?.aborted) return Promise.reject(abortReason(signal, "Waiting for a permit"));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (signal) {
        const onAbort = () => {
          const index = this.#waiters.indexOf(waiter, this.#head);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(abortReason(signal, "Waiting for a permit"));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.#waiters.push(waiter);
    });
  }

  /** Returns a permit, waking the oldest waiter. */
  release(): void {
    if (this.#head < this.#waiters.length) {
      const waiter = this.#waiters[this.#head++];
      if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
        this.#waiters.splice(0, this.#head);
        this.#head = 0;
      }
      waiter.cleanup?.();
      waiter.resolve();
      return;
    }
    this.#available++;
  }

  /** Fails every waiter and every later acquire with `error`. */
  close(error: Error): void {
    this.#closedError = error;
    const waiters = this.#waiters.splice(this.#head);
    this.#waiters.length = 0;
    this.#head = 0;
    for (const waiter of waiters) {
      waiter.cleanup?.();
      waiter.reject(error);
    }
  }
}

/** A promise with its resolvers exposed. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

/** Creates a {@linkcode Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A hand-off from producers of items (pull loops) to readers (`for await` loops, `poll()`).
 * `push()` never blocks: producers bound what they push themselves (flow control); readers wait
 * with a timeout or a signal.
 */
export class HandOff<T> {
  #items: T[] = [];
  #head = 0;
  readonly #readers: Array<(item: T | undefined) => void> = [];
  #closed = false;

  /** Items waiting for a reader. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Hands `item` to a waiting reader, or queues it. Ignored after close. */
  push(item: T): void {
    if (this.#closed) return;
    const reader = this.#readers.shift();
    if (reader) reader(item);
    else this.#items.push(item);
  }

  /** Takes the next item now, if any. */
  tryTake(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes every queued item matching `predicate`, returning them. */
  removeWhere(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i];
      (predicate(item) ? removed : kept).push(item);
    }
    this.#items = kept;
    this.#head = 0;
    return removed;
  }

  /**
   * Waits up to `timeoutMs` for an item; `undefined` on timeout, abort or close.
   */
  take(timeoutMs: number, signal?: AbortSignal): Promise<T | undefined> {
    const now = this.tryTake();
    if (now !== undefined || this.#closed || timeoutMs <= 0 || signal?.aborted) return Promise.resolve(now);
    return new Promise((resolve) => {
      const finish = (item: T | undefined) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(item);
      };
      const onAbort = () => {
        const index = this.#readers.indexOf(finish);
        if (index >= 0) this.#readers.splice(index, 1);
        finish(undefined);
      };
      const timer = timeoutMs === Infinity ? undefined : setTimeout(onAbort, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#readers.push(finish);
    });
  }

  /** Wakes every waiting reader with `undefined`; later pushes are dropped. Returns what was queued. */
  close(): T[] {
    this.#closed = true;
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    for (const reader of this.#readers.splice(0)) reader(undefined);
    return rest;
  }
}

/**
 * Runs `task` every `intervalMs` until stopped; a run never overlaps the previous one, and a
 * throwing run is reported to `onError` and does not stop the schedule.
 */
export class Periodic {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(
    readonly intervalMs: number,
    readonly task: () => Promise<void> | void,
    readonly onError: (error: unknown) => void,
  ) {}

  /** Schedules the first run after `firstDelayMs`. */
  start(firstDelayMs = this.intervalMs): void {
    this.#stopped = false;
    this.#schedule(firstDelayMs);
  }

  /** Runs now (if no run is in progress) and re-arms the timer. */
  trigger(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) return this.#running;
    clearTimeout(this.#timer);
    this.#running = (async () => {
      try {
        await this.task();
      } catch (error) {
        this.onError(error);
      } finally {
        this.#running = undefined;
        this.#schedule(this.intervalMs);
      }
    })();
    return this.#running;
  }

  /** Cancels the schedule and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.trigger(), ms);
  }
}
