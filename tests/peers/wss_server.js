#!/usr/bin/env node
// ws_server.js over TLS: the same endpoints and behaviour, served by node's https module with a
// certificate the test made.
//
//   node wss_server.js --cert server.pem --key server.key --port 0
//   -> prints "ws-peer listening on https://127.0.0.1:<port>" once it accepts connections.
//
// ws_server.js creates its server with http.createServer; this file hands it an https server
// instead, so that the two peers cannot drift apart.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');

function take_option(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) {
    process.stderr.write(`usage: node wss_server.js --cert FILE --key FILE [--port PORT]\n`);
    process.exit(2);
  }
  const value = process.argv[i + 1];
  process.argv.splice(i, 2);
  return value;
}

const tls_options = {
  cert: fs.readFileSync(take_option('--cert')),
  key: fs.readFileSync(take_option('--key')),
};

http.createServer = (handler) => https.createServer(tls_options, handler);

// The readiness line names the scheme the peer really speaks.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) =>
  write(String(chunk).replace('listening on http://', 'listening on https://'), ...rest);

require(path.join(__dirname, 'ws_server.js'));
