// msgpackr's pure-JavaScript build ships without its own typings; it has the API of the main entry.
declare module 'msgpackr/index-no-eval' {
  import type * as msgpackr from 'msgpackr';

  const api: typeof msgpackr;
  export default api;
}
