# Hashes a model folder with model_signing's own hashing code, as `model_signing sign` and
# `model_signing digest` do by default: hashing.Config() in files mode (one SHA-256 a file, its
# serialization.file Serializer on a thread pool, 1 MiB reads). Prints how many digests it made
# and the root digest `model_signing digest` prints (aisc's artifact digest, for a check).
#
#   python3 bench/model-signing-hash.py MODEL_SRC MODEL_DIR
#
# MODEL_SRC is a checkout's src/ (AISC_BENCH_MODEL_SIGNING), not an installed package: nothing of
# model_signing is part of aisc. Two things are set up before its modules load, neither on the
# hashing path:
# - the package's __init__ imports signing and verifying (sigstore, pyOpenSSL…), so the package is
#   made an empty namespace with the same __path__: its hashing modules load as they are;
# - `blake3` is imported by hashing.py, _hashing/io.py and _hashing/memory.py at import time, and
#   Config() reads blake3.blake3.AUTO as a default it passes only to BLAKE3 hashers; this machine
#   has no blake3 wheel, so a placeholder module with that one constant stands in (SHA-256 never
#   touches it).
import os
import sys
import types

src, model = sys.argv[1], sys.argv[2]

package = types.ModuleType('model_signing')
package.__path__ = [os.path.join(src, 'model_signing')]
sys.modules['model_signing'] = package

placeholder = types.ModuleType('blake3')


class _Blake3Placeholder:
    AUTO = -1  # blake3's own value for "as many threads as cores"


placeholder.blake3 = _Blake3Placeholder
sys.modules.setdefault('blake3', placeholder)

from model_signing import hashing  # noqa: E402

import hashlib  # noqa: E402

manifest = hashing.Config().hash(model)
descriptors = list(manifest.resource_descriptors())
root = hashlib.sha256(b''.join(d.digest.digest_value for d in descriptors)).hexdigest()
print(len(descriptors), root)
