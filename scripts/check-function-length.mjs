#!/usr/bin/env node
/**
 * Function-length check (`pnpm check:functions`): every function, method, constructor, accessor
 * and arrow function in every package's sources (packages/<name>/src) whose body spans more than
 * 60 lines is printed as `file:line name (N lines)`, and the script exits 1. The body is counted from its opening to its
 * closing line, both included (an arrow's expression body likewise); a nested function counts
 * inside its parent too. Parsed with the workspace's own `typescript` compiler API, so a string
 * or comment containing a brace never confuses it.
 *
 *   node scripts/check-function-length.mjs [--max N] [dir-or-file ...]   (default: every packages/<name>/src)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ts = createRequire(join(root, 'package.json'))('typescript');

function parseArgs(argv) {
  let max = 60;
  const paths = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--max') max = Number(argv[++i]);
    else if (arg.startsWith('--max=')) max = Number(arg.slice('--max='.length));
    else paths.push(resolve(arg));
  }
  if (!Number.isInteger(max) || max < 1) {
    console.error('check-function-length: --max takes a positive whole number of lines');
    process.exit(2);
  }
  return { max, paths: paths.length ? paths : packageSources() };
}

/** Every packages/<name>/src directory. */
function packageSources() {
  const packages = join(root, 'packages');
  return readdirSync(packages)
    .map((name) => join(packages, name, 'src'))
    .filter((dir) => existsSync(dir) && statSync(dir).isDirectory());
}

function walk(path, out = []) {
  if (!statSync(path).isDirectory()) {
    out.push(path);
    return out;
  }
  for (const entry of readdirSync(path).sort()) {
    const child = join(path, entry);
    if (statSync(child).isDirectory()) walk(child, out);
    else if (/\.(?:c|m)?tsx?$/.test(entry) && !/\.d\.(?:c|m)?ts$/.test(entry)) out.push(child);
  }
  return out;
}

/** A readable name: `f`, `Class.method`, `Class#private`, `Class.constructor`, `name` of `const name = () =>`. */
function nameOf(node, sourceFile) {
  const text = (name) => (name ? name.getText(sourceFile) : undefined);
  const owner = (n) => (ts.isClassLike(n.parent) ? `${n.parent.name?.text ?? '<class>'}.` : '');
  if (ts.isConstructorDeclaration(node)) return `${owner(node)}constructor`;
  if (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) {
    const prefix = ts.isGetAccessor(node) ? 'get ' : ts.isSetAccessor(node) ? 'set ' : '';
    return `${prefix}${owner(node)}${text(node.name)}`;
  }
  if ((ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node)) && node.name) return node.name.text;
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return text(parent.name);
  if (parent && (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) {
    return `${owner(parent)}${text(parent.name)}`;
  }
  if (parent && (ts.isCallExpression(parent) || ts.isNewExpression(parent))) {
    const callee = parent.expression.getText(sourceFile).slice(0, 40);
    return `<callback of ${ts.isNewExpression(parent) ? 'new ' : ''}${callee}>`;
  }
  return '<anonymous>';
}

function check(file, max) {
  const sourceFile = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = [];
  const line = (pos) => sourceFile.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const lines = line(node.body.getEnd()) - line(node.body.getStart(sourceFile)) + 1;
      if (lines > max)
        found.push({ line: line(node.getStart(sourceFile)), name: nameOf(node, sourceFile), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

const { max, paths } = parseArgs(process.argv.slice(2));
let count = 0;
for (const file of paths.flatMap((p) => walk(p))) {
  for (const hit of check(file, max)) {
    count++;
    console.log(`${relative(root, file)}:${hit.line} ${hit.name} (${hit.lines} lines)`);
  }
}
if (count > 0) {
  console.error(`${count} function${count === 1 ? '' : 's'} longer than ${max} lines`);
  process.exit(1);
}
console.log(`no function body longer than ${max} lines`);
