// What Jest needs for authpulse: its jsdom environment leaves out globals a browser has and
// authpulse uses (TextEncoder, TextDecoder, fetch and its classes, BroadcastChannel); Node has them.
const { TestEnvironment } = require("jest-environment-jsdom");

module.exports = class AuthpulseEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    const { TextEncoder, TextDecoder, fetch, Request, Response, Headers, BroadcastChannel } = globalThis;
    Object.assign(this.global, { TextEncoder, TextDecoder, fetch, Request, Response, Headers, BroadcastChannel });
  }
};
