import { verifyPassword, type PasswordHasher } from './password.js';

/** Every slot is busy and the waiting line is full: answer 503 with Retry-After, do not queue more. */
export class PasswordVerifierBusyError extends Error {
  override name = 'PasswordVerifierBusyError';
  readonly code = 'password_verifier_busy';
}

/**
 * Bounds the argon2 password work in flight (checks, and the re-hash that upgrades an old hash).
 * Each one holds PASSWORD_HASH_PARALLELISM threads of libuv's pool and its memory (19 MiB and
 * ~50 ms of CPU with the defaults); unbounded, a burst of sign-ins (60 anonymous POSTs) fills the pool, and
 * everything else that needs it — WebCrypto signing for every token, private_key_jwt checks —
 * waits behind them for seconds. At most `concurrency` run (below the pool's size, which the
 * config checks), at most `queueLimit` wait in order; one more is refused at once.
 *
 * The sign-in throttle reserves its attempt before a check enters here, so one account or address
 * never holds more than its limit of places in the line.
 */
export class PasswordVerifier {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private dummy: Promise<string> | undefined;

  constructor(
    /** Makes new hashes: the dummy's, so an unknown username costs what a current hash does, and upgrades. */
    private readonly hasher: PasswordHasher,
    private readonly concurrency: number,
    private readonly queueLimit: number,
    /** Told the load whenever it changes (a gauge). */
    private readonly onLoad: (load: { running: number; waiting: number }) => void = () => {},
  ) {}

  /** Checks `password` against `hash`; throws PasswordVerifierBusyError when the line is full. */
  verify(hash: string, password: string): Promise<boolean> {
    return this.run(() => verifyPassword(hash, password));
  }

  /**
   * For an unknown username: the same work as a real check, so that response timing does not
   * reveal which usernames exist. Always false.
   */
  verifyDummy(password: string): Promise<false> {
    return this.run(async () => {
      this.dummy ??= this.hasher.hash('latchkey-dummy-password-for-timing');
      await verifyPassword(await this.dummy, password);
      return false as const;
    });
  }

  /** A hash of `password` with the current parameters (to upgrade an old one); busy like a check. */
  rehash(password: string): Promise<string> {
    return this.run(() => this.hasher.hash(password));
  }

  /** True when a check asked for now would be refused: every slot and every waiting place is taken. */
  get full(): boolean {
    return this.running >= this.concurrency && this.waiting.length >= this.queueLimit;
  }

  /** Checks running and waiting now (for metrics and tests). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  private async run<T>(check: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) throw new PasswordVerifierBusyError('too many password checks are waiting');
      // The slot is handed over by the check that finishes (below): `running` never drops in between.
      const turn = new Promise<void>((resolve) => this.waiting.push(resolve));
      this.onLoad(this.load);
      await turn;
    } else {
      this.running++;
    }
    this.onLoad(this.load);
    try {
      return await check();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
      this.onLoad(this.load);
    }
  }
}
