import { fileURLToPath } from 'node:url';

/** ../shared/fixtures beside this repository: real third-party data (see its README). */
export const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
export const CONFORMANCE = `${FIXTURES}sigstore-conformance/bundle-verify`;
export const OMS_VECTORS = `${FIXTURES}model-signing-spec/test-vectors/v1.0`;
export const BEACON_IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
