/**
 * The msgpackr both msgpack codecs use: its pure-JavaScript build, as a
 * module instance of our own.
 *
 * Why not the main entry: there, msgpackr decodes some strings with its
 * native addon (msgpackr-extract), and when that addon fails half-way through
 * a map key of corrupt input it leaves a half-built entry in msgpackr's
 * process-wide key cache; later *valid* messages with a key of the same
 * bytes then decode it as `"undefined"`. Our fuzz tests found it (a peer could
 * corrupt other peers' messages). The JavaScript decoder never throws inside
 * a key, so the cache stays sound.
 *
 * A separate instance also keeps msgpackr's module-wide extension table ours:
 * the extensions conc adds do not change how other code in the process uses
 * msgpackr, and theirs do not change ours.
 */
import msgpackr from 'msgpackr/index-no-eval';

export const { Packr, Unpackr, addExtension, RESERVE_START_SPACE, REUSE_BUFFER_MODE, RESET_BUFFER_MODE } =
  msgpackr;

/**
 * The msgpackr module object. Two copies of @conc/serialize in one process
 * (its ESM and CJS builds, say) load this same CommonJS module, so state that
 * must be shared between them hangs off it or off global symbols.
 */
export const msgpackrModule: object = msgpackr;
