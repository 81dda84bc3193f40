import type { Command } from 'commander';
import { formatBytes, type ProgressLine } from '../report/index.js';
import { log, showProgress, type CliContext } from './context.js';
import { DEFAULT_LOCKFILE, parseJobs } from './options.js';

export function registerFetch(program: Command, context: CliContext): void {
  program
    .command('fetch')
    .description('download exactly what the lockfile pins, verified and inspected while it streams (a file lock would refuse never lands): hf:// into the Hugging Face cache, https:// to its kept path, oci:// laid out in its folder')
    .argument('[name...]', 'artifacts to fetch (default: every one locked from the Hub, a registry or a URL)')
    .option('--lockfile <file>', 'lockfile to read', DEFAULT_LOCKFILE)
    .option('--policy <file>', 'policy whose pickle allowlist and denyFormats the content gate applies (default: aisc.policy.yaml when present)')
    .option('--jobs <n>', 'downloads at once (default 8)', parseJobs)
    .option('--oci-layout <dir>', 'oci:// artifacts: also lay their blobs out in this OCI image layout (oci-layout, index.json, blobs/sha256/)')
    .action(async (names: string[], flags: { lockfile: string; policy?: string; jobs?: number; ociLayout?: string }) => {
      const { fetchArtifacts } = await import('../fetch/fetch-artifacts.js');
      let progress: ProgressLine | undefined;
      try {
        const fetched = await fetchArtifacts(names, {
          lockfile: flags.lockfile,
          policy: flags.policy,
          policyRequired: flags.policy !== undefined,
          jobs: flags.jobs,
          ...(flags.ociLayout === undefined ? {} : { ociLayout: flags.ociLayout }),
          env: context.env,
          onWait: (message) => log(context, message),
          onNote: (message) => log(context, message),
          onDownloading: (source, total) => (progress = showProgress(context, 'downloading', source, total)),
        });
        progress?.stop();
        if (fetched.length === 0) context.stdout.write(`nothing to fetch: ${flags.lockfile} pins no artifact from the Hub, a registry or a URL\n`);
        for (const artifact of fetched) {
          context.stdout.write(`fetched ${artifact.name}: ${artifact.files} file${artifact.files === 1 ? '' : 's'}, ${formatBytes(artifact.bytes)} (${artifact.downloaded} downloaded, ${artifact.present} already present and correct) → ${artifact.where}\n`);
        }
      } finally {
        progress?.stop();
      }
    });
}
