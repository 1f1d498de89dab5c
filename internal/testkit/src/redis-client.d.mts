/** The drivers the Redis tier supports. */
export declare const REDIS_DRIVERS: readonly ['ioredis', 'node-redis'];
/** A connected client of `driver` for `url`. */
export declare function connectRedis(driver: 'ioredis' | 'node-redis', url: string): Promise<object>;
/** Closes a client made by connectRedis. */
export declare function closeRedis(client: object): Promise<void>;
