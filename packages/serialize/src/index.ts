export { DEFAULT_MAX_VALUES, type DecodeOptions, maxValuesFor } from './codec/budget.js';
export { jsonCodec } from './codec/json.js';
export { msgpackCodec } from './codec/msgpack.js';
export { ERROR_EXT, TOKEN_EXT } from './codec/msgpack-ext.js';
export { plainMsgpackCodec } from './codec/msgpack-plain.js';
export { codecs, defaultCodec, getCodec, resolveCodec } from './codec/registry.js';
export type { Codec, CodecName } from './codec/types.js';
export { v8Codec } from './codec/v8.js';
export {
  ConcError,
  type ConcErrorOptions,
  DeserializationError,
  defineConcError,
  errorFromWire,
  errorGuard,
  errorToWire,
  FrameTooLargeError,
  isConcError,
  isDeserializationError,
  isFrameTooLargeError,
  isProtocolError,
  isSerializationError,
  isTokenError,
  isWireError,
  ProtocolError,
  SerializationError,
  TokenError,
  type WireError,
} from './errors.js';
export {
  DEFAULT_MAX_FRAME_SIZE,
  encodeFrame,
  encodeFrameHeader,
  FrameDecoder,
  FrameEncoder,
  type FrameOptions,
} from './frame.js';
export {
  CUSTOM_CODEC_TAG,
  codecTag,
  decodeMessage,
  encodeMessage,
  encodeMessageFrame,
  MESSAGE_HEADER_SIZE,
  MESSAGE_VERSION,
  type MessageOptions,
} from './message.js';
export {
  attach,
  isShareable,
  isToken,
  type KindDefinition,
  onKind,
  registerKind,
  type Shareable,
  share,
  shareSymbol,
  TOKEN_VERSION,
  type Token,
} from './share.js';
