import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** Every `npx aisc …` command line in a page's code blocks, continuation lines joined. */
function getExamples(markdown: string): string[] {
  const examples: string[] = [];
  for (const [, block = ''] of markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)) {
    for (const line of block.replace(/\s*\\\n\s*/g, ' ').split('\n')) {
      const at = line.indexOf('npx aisc ');
      if (at >= 0) examples.push(line.slice(at + 'npx aisc '.length).replace(/\s+#.*$/, '').replace(/\s*[|>].*$/, ''));
    }
  }
  return examples;
}

/** Words as a shell splits them (quotes, no expansion), which is all the examples use. */
function toWords(line: string): string[] {
  return [...line.matchAll(/"[^"]*"|'[^']*'|\S+/g)].map(([word]) => word.replace(/^(["'])(.*)\1$/, '$2'));
}

/** What is wrong with one example: a command aisc does not have, or a flag that command does not take. */
function getProblems(program: Command, example: string): string[] {
  const words = toWords(example);
  let command: Command | undefined = program.commands.find((c) => c.name() === words[0]);
  if (command === undefined) return [`no command ${JSON.stringify(words[0])}`];
  const sub = command.commands.find((c) => c.name() === words[1]);
  if (sub) command = sub;
  const known = new Set([...command.options, ...program.options].flatMap((option) => [option.long, option.short]).concat('--help', '-h'));
  return words.filter((word) => word.startsWith('-') && !known.has(word.split('=')[0])).map((flag) => `aisc ${command.name()} takes no ${flag}`);
}

describe('the examples in README.md and docs/', () => {
  const program = buildProgram({ stdout: process.stdout, stderr: process.stderr, exitCode: 0 });

  it.each(PAGES)('use only commands and flags aisc has, in %s', (page) => {
    const examples = getExamples(readFileSync(join(ROOT, page), 'utf8'));
    expect(examples.flatMap((example) => getProblems(program, example).map((problem) => `${problem}: npx aisc ${example}`))).toEqual([]);
  });

  it('finds the examples, and would notice a flag that is not there', () => {
    const examples = getExamples('```sh\nnpx aisc verify --cache /var/cache/aisc      # a comment\nnpx aisc diff --base git:main --format markdown > pr.md\nnpx aisc lock ./x \\\n  --kind model\n```\n');
    expect(examples).toEqual(['verify --cache /var/cache/aisc', 'diff --base git:main --format markdown', 'lock ./x --kind model']);
    expect(getProblems(program, 'verify --cache x --bogus')).toEqual(['aisc verify takes no --bogus']);
    expect(getProblems(program, 'report merge a.json --format=github')).toEqual([]);
    expect(getProblems(program, 'frobnicate')).toEqual(['no command "frobnicate"']);
  });
});
