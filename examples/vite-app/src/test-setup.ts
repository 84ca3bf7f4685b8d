// jsdom has no fetch: the page's fetch, Request and Response are Node's, and Node's Request
// cannot resolve a relative URL such as "/api/me". Resolve it against the page, as a browser does.
const NodeRequest = globalThis.Request;
globalThis.Request = class Request extends NodeRequest {
  constructor(input: RequestInfo | URL, init?: RequestInit) {
    super(typeof input === "string" ? new URL(input, location.href) : input, init);
  }
};
