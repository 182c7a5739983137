// Every value of helm/ovalstream/values.yaml is documented in helm/ovalstream/README.md, and the README
// documents no value that does not exist. A value is a key path (`aggregator.drainSeconds`); the keys of an
// object that values.schema.json leaves open (no additionalProperties: false, e.g. resources, securityContext)
// are documented by the object's own path. The README's "## Values" tables name each path in backticks in
// their first column.
//
//   node check-chart-readme.mjs CHART_DIR          check the chart
//   node check-chart-readme.mjs --self-test CHART_DIR
//                                                  an undocumented value and a stale README row must be reported
// Environment: OVALSTREAM_DEPLOY_TOOLS, the directory setup-tools.sh installed into.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const tools = await import(pathToFileURL(join(process.env.OVALSTREAM_DEPLOY_TOOLS ?? '', 'node', 'tools-entry.mjs')).href);

function resolve(schema, root) {
  let node = schema ?? {};
  while (node.$ref) node = node.$ref.replace(/^#\//, '').split('/').reduce((at, key) => at[key], root);
  return node;
}

const isPlainObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

// The value paths that must be documented, each one a leaf or an open object.
export function valuePaths(values, schema) {
  const paths = [];
  const walk = (value, node, prefix) => {
    const closed = node.additionalProperties === false;
    if (!isPlainObject(value) || Object.keys(value).length === 0 || !closed) {
      paths.push(prefix);
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      walk(child, resolve(node.properties?.[key], schema), prefix ? `${prefix}.${key}` : key);
    }
  };
  for (const [key, child] of Object.entries(values)) walk(child, resolve(schema.properties?.[key], schema), key);
  return paths;
}

// The paths the README's "## Values" section documents: the backticked first cell of each table row.
export function documentedPaths(readme) {
  const section = readme.split(/^## /m).find((part) => part.startsWith('Values'));
  if (!section) return null;
  const documented = new Set();
  for (const line of section.split('\n')) {
    const match = /^\|\s*`([A-Za-z][A-Za-z0-9_.]*)`/.exec(line);
    if (match) documented.add(match[1]);
  }
  return documented;
}

export function problems(values, schema, readme) {
  const found = [];
  const documented = documentedPaths(readme);
  if (!documented) return ['README.md has no "## Values" section'];
  const paths = valuePaths(values, schema);
  for (const path of paths) {
    if (!documented.has(path)) found.push(`value ${path} is not documented in README.md ("## Values": a row \`${path}\`)`);
  }
  const known = new Set(paths);
  for (const path of documented) {
    if (!known.has(path)) found.push(`README.md documents ${path}, which is not a value of values.yaml`);
  }
  return found;
}

function load(chart) {
  return {
    values: tools.parseYaml(readFileSync(join(chart, 'values.yaml'), 'utf8')),
    schema: JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')),
    readme: readFileSync(join(chart, 'README.md'), 'utf8'),
  };
}

function main() {
  const args = process.argv.slice(2);
  const selfTest = args[0] === '--self-test';
  const chart = selfTest ? args[1] : args[0];
  if (!chart) {
    console.error('usage: node check-chart-readme.mjs [--self-test] CHART_DIR');
    return 2;
  }
  const { values, schema, readme } = load(chart);
  if (!selfTest) {
    const found = problems(values, schema, readme);
    for (const problem of found) console.error(`check-chart-readme: ${problem}`);
    console.log(`check-chart-readme: ${valuePaths(values, schema).length} values, ${found.length} problem(s)`);
    return found.length === 0 ? 0 : 1;
  }
  // Self-test: a new value in values.yaml (and its schema) without a README row, and a README row for a value
  // that is gone, must each be reported.
  let failures = 0;
  const undocumented = structuredClone(values);
  undocumented.aggregator.undocumentedKnob = 1;
  const widened = structuredClone(schema);
  widened.properties.aggregator.properties.undocumentedKnob = { type: 'integer' };
  if (!problems(undocumented, widened, readme).some((problem) => problem.includes('value aggregator.undocumentedKnob is not documented'))) {
    console.error('check-chart-readme: self-test: an undocumented value was not reported');
    ++failures;
  }
  const stale = readme.replace(/^## Values\n/m, '## Values\n\n| `aggregator.removedKnob` | gone |\n');
  if (!problems(values, schema, stale).some((problem) => problem.includes('documents aggregator.removedKnob'))) {
    console.error('check-chart-readme: self-test: a stale README row was not reported');
    ++failures;
  }
  console.log(`check-chart-readme: self-test ${failures === 0 ? 'passed' : 'FAILED'}`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = main();
