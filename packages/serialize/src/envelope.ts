/** The two bytes of conc's message envelope (see message.ts), shared with the frame batcher. */

/** The envelope version this copy writes and reads. */
export const MESSAGE_VERSION = 1;

/** Envelope bytes before the value. */
export const MESSAGE_HEADER_SIZE = 2;
