/**
 * The PostgreSQL wire protocol (version 3.0) for the native access proxy: framing, message
 * codecs, the agent's login to the real server and query capture. No sockets, no gRPC.
 */
export * from './errors.js';
export * from './framing.js';
export * from './startup.js';
export * from './frontend.js';
export * from './backend.js';
export * from './scram.js';
export * from './saslprep.js';
export * from './client-auth.js';
export * from './capture.js';
