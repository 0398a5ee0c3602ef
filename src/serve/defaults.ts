/** `isfuse serve`'s defaults, apart from server.ts so that the CLI's help does not load fastify. */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;
/** Largest request body accepted (bytes): the app sends none, so anything large is refused with 413. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;
