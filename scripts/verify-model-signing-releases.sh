#!/usr/bin/env bash
# Verifies the bundles that every past release of the Python model_signing tool wrote (kept in
# sigstore/model-transparency under scripts/tests/) with aisc, using the arguments of that
# repository's own scripts/tests/test-verify-*.sh, translated flag for flag:
#   --signature S        → --bundle S
#   --public_key K       → --key K
#   --certificate_chain C → --certificate-chain C
#   --identity I --identity_provider P → --certificate-identity I --certificate-oidc-issuer P
#   --ignore-paths P     → --ignore-paths P
# Usage: scripts/verify-model-signing-releases.sh PATH/TO/model-transparency [aisc command]
# Needs no network (the Sigstore bundles verify offline against the public-good root).
set -u
checkout="${1:?usage: $0 PATH/TO/model-transparency [aisc command]}"
aisc="${2:-node $(cd "$(dirname "$0")/.." && pwd)/bin/aisc.js}"
cd "$checkout/scripts/tests" || exit 2

failed=0
run() {
  printf '+ aisc %s\n' "$*"
  if $aisc "$@"; then return 0; else echo "  FAILED (exit $?)"; failed=$((failed + 1)); return 1; fi
}
sigstore=(--certificate-identity stefanb@us.ibm.com --certificate-oidc-issuer https://sigstore.verify.ibm.com/oauth2)
ca=(--certificate-chain ./keys/certificate/ca-cert.pem)
key=(--key ./keys/certificate/signing-key-pub.pem)

run verify-signature ./v0.2.0-certificate/ --bundle ./v0.2.0-certificate/model.sig "${ca[@]}"
for v in v0.3.1 v1.0.0; do
  run verify-signature ./$v-certificate/ --bundle ./$v-certificate/model.sig "${ca[@]}"
  run verify-signature ./$v-elliptic-key/signme-1 --bundle ./$v-elliptic-key/model.sig "${key[@]}"
  run verify-signature ./$v-sigstore/ --bundle ./$v-sigstore/model.sig "${sigstore[@]}"
done
(cd v1.0.0-sigstore && run verify-signature . --bundle model.sig "${sigstore[@]}") || failed=$((failed + 1))
for v in v1.0.1 v1.1.0; do
  run verify-signature ./$v-certificate/ --bundle ./$v-certificate/model.sig "${ca[@]}" --ignore-paths ./$v-certificate/ignore-me
  run verify-signature ./$v-elliptic-key --bundle ./$v-elliptic-key/model.sig "${key[@]}" --ignore-paths ./$v-elliptic-key/ignore-me
  run verify-signature ./$v-sigstore/ --bundle ./$v-sigstore/model.sig "${sigstore[@]}" --ignore-paths ./$v-sigstore/ignore-me
  (cd $v-sigstore && run verify-signature . --bundle model.sig "${sigstore[@]}" --ignore-paths ignore-me) || failed=$((failed + 1))
done
echo "$failed failed"
[ "$failed" -eq 0 ]
