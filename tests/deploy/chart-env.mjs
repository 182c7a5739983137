// Prints the data of the ConfigMaps in a rendered manifest file whose name ends with SUFFIX as
// NAME=VALUE lines (one a line), so a test can run an executable with the chart's own configuration.
//   node chart-env.mjs FILE.yaml SUFFIX
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const tools = await import(pathToFileURL(join(process.env.OVALSTREAM_DEPLOY_TOOLS ?? '', 'node', 'tools-entry.mjs')).href);
const [file, suffix] = process.argv.slice(2);
let found = 0;
for (const document of tools.parseAllDocuments(readFileSync(file, 'utf8'))) {
  const object = document.toJS();
  if (object?.kind !== 'ConfigMap' || !object.metadata.name.endsWith(suffix)) continue;
  ++found;
  for (const [name, value] of Object.entries(object.data ?? {})) {
    if (/[\n\0]/.test(value)) throw new Error(`${name}: a multi-line value is not an environment variable`);
    console.log(`${name}=${value}`);
  }
}
if (found === 0) {
  console.error(`chart-env: no ConfigMap named *${suffix} in ${file}`);
  process.exitCode = 1;
}
