// Calls DecisionSupport.Evaluate over gRPC with the standard Node.js client
// (@grpc/grpc-js), loading the API from proto/ at run time.
//
//   node examples/grpc-client/evaluate.mjs ADDRESS ASSESSMENT.json
//
// The packages are installed into the build tree, not the repository:
//   npm install --prefix build/npm @grpc/grpc-js@1.14.7 @grpc/proto-loader@0.8.1
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'build', 'npm', 'package.json'));
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [address, file] = process.argv.slice(2);
if (!address || !file) {
  console.error('usage: node examples/grpc-client/evaluate.mjs ADDRESS ASSESSMENT.json');
  process.exit(2);
}

const definition = protoLoader.loadSync('reconnect/v1/decision_support.proto', {
  includeDirs: [join(root, 'proto'), '/usr/include'],
  keepCase: false, longs: String, enums: String, defaults: false, oneofs: true,
});
const { reconnect } = grpc.loadPackageDefinition(definition);
const client = new reconnect.v1.DecisionSupport(address, grpc.credentials.createInsecure());

const assessment = JSON.parse(readFileSync(file, 'utf8'));
client.Evaluate(
  { assessment, callingSystem: 'node-example' },
  { deadline: Date.now() + 5000 },
  (err, response) => {
    if (err) {
      console.error(`${grpc.status[err.code]}: ${err.details}`);
      process.exit(1);
    }
    console.log(JSON.stringify(response, null, 1));
    client.close();
  });
