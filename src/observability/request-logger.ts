import type { FastifyBaseLogger } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
/** The level methods as this class calls them: forwarding a caller's arguments unchanged, which pino's overloads cannot express. */
type LevelMethods = Record<Level, (...args: unknown[]) => void>;
type Bindings = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

/**
 * The per-request logger Fastify hands to `request.log`, made lazily.
 *
 * Fastify's default makes a pino child (`logger.child({ reqId })`) for every request, which
 * serializes and redacts the bindings up front: about 3% of the token endpoint's main-thread time
 * in `npm run bench`, spent even when the request logs nothing. This logger writes the same lines
 * — every one carries `reqId` — but a call with a plain object goes to the parent with the
 * bindings merged in, a call at a disabled level costs a comparison, and anything else (a bare
 * message, an Error, `child()`) makes the real child on first use and delegates to it.
 */
export class RequestLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: object,
  ) {}

  private real(): FastifyBaseLogger {
    return (this.#child ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.#child?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  private write(level: Level, args: unknown[]): void {
    const child = this.#child;
    if (child) {
      (child as LevelMethods)[level](...args);
      return;
    }
    const enabled = (this.parent as unknown as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled;
    if (enabled && !enabled.call(this.parent, level)) return;
    const [first, ...rest] = args;
    if (isPlainObject(first)) {
      (this.parent as LevelMethods)[level]({ ...this.bindings, ...first }, ...rest);
      return;
    }
    (this.real() as LevelMethods)[level](...args);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: object): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: one lazy logger per request. */
export function requestLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: object): FastifyBaseLogger {
  return new RequestLogger(logger, bindings, options);
}
