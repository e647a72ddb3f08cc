'use strict';
// An S3-compatible server (npm s3rver) on 127.0.0.1 for the S3 export's integration test.
//   node s3_server.js --directory DIR [--port N] [--bucket NAME]... [--key PEM --cert PEM]
//   -> prints "s3-peer listening on http(s)://127.0.0.1:<port>" once it accepts connections;
//      https with --key and --cert.
// Port 0 (the default) takes a free port. Access key S3RVER is known to it; s3rver 3.7 does not
// verify V4 signatures, so the signer is proven by the unit tests' vectors instead.
const fs = require('fs');
const S3rver = require('s3rver');

function parseArgs(argv) {
  const options = { directory: '', port: 0, buckets: [], key: '', cert: '' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--directory') options.directory = value;
    else if (flag === '--port') options.port = Number(value);
    else if (flag === '--bucket') options.buckets.push({ name: value });
    else if (flag === '--key') options.key = value;
    else if (flag === '--cert') options.cert = value;
    else throw new Error(`unknown option ${flag}`);
  }
  if (!options.directory) throw new Error('--directory is required');
  if (!options.key !== !options.cert) throw new Error('--key and --cert go together');
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const tls = options.key
    ? { key: fs.readFileSync(options.key), cert: fs.readFileSync(options.cert) }
    : {};
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    directory: options.directory,
    silent: true,
    configureBuckets: options.buckets,
    ...tls,
  });
  const { port } = await server.run();
  const scheme = options.key ? 'https' : 'http';
  process.stdout.write(`s3-peer listening on ${scheme}://127.0.0.1:${port}\n`);
}

main().catch((error) => {
  process.stderr.write(`s3_server.js: ${error.message}\n`);
  process.exit(1);
});
