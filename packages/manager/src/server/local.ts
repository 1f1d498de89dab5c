/**
 * Servers running in this process, by server id: a proxy token that reaches
 * its own server (a list proxy stored in a dict) becomes a server-side
 * reference there instead of a client connection to itself.
 */
import type { ObjectTable } from './objects.js';

export const localServers = new Map<string, ObjectTable>();
