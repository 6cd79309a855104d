/** One injectable clock (docs/architecture.md): tests move time, production reads Date.now(). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Seconds since the epoch, as JWT NumericDate values are. */
export const epochSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);

/** A clock tests can move. */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.now()) {}
  now(): number {
    return this.ms;
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}
