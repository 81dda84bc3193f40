export { BUNDLE_MEDIA_TYPES, parseBundle, readBundle } from './bundle.js';
export { isSignatureFinding, SignatureFinding, type SignatureFindingCode } from './errors.js';
export { toKeylessIdentity, type IdentityFlags, type KeylessIdentity } from './identity.js';
export { getKeyFingerprint, readPublicKey, toPublicKey } from './keys.js';
export { toSignerPolicy, type SignerFlags } from './policy.js';
export { getPublicGoodTrustedRoot, readTrustedRoot } from './trust.js';
export { verifyBundle, type SignerPolicy, type VerifiedSigner } from './verify-bundle.js';
export { verifyFileSignature, type SignatureReport } from './verify-file.js';
