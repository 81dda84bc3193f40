#!/usr/bin/python3
"""Writes test/fixtures/checkpoints/: real files made by torch.save, np.save and friends, and
malicious files written by bytes, each proved benign or malicious by the real loaders.

Run with Debian's /usr/bin/python3 (python3-torch, python3-numpy). Deterministic: fixed seeds, and
the legacy torch format's storage keys (CPython pointers in torch 1.13) made stable. No payload is
ever run: malicious files are judged by an Unpickler whose find_class records and raises, and by
torch.load(weights_only=True) refusing them; nothing is loaded with weights_only=False.
"""
import collections
import hashlib
import inspect
import io
import os
import pickle
import pickletools
import platform
import re
import shutil
import struct
import sys
import textwrap
import zipfile

import warnings

import numpy as np
import torch
import torch.serialization

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'checkpoints')
ROOT = os.path.normpath(ROOT)
EXTENSIONS = ['.pt', '.pth', '.bin', '.ckpt']
# Every file written, with the group that proves it: 'torch', 'numpy', 'raw' or 'malicious'.
WRITTEN = []
# The imports the benign pickles name (statically, from their opcodes), per group.
BENIGN_IMPORTS = {}


# ---------------------------------------------------------------------------------------------
# Stable storage keys for the legacy format (torch 1.13 writes str(storage._cdata), a pointer).

_KEYS = {}


def _stable_key(cdata):
    # Same shape as the pointer it replaces (a 15-digit number), in order of first appearance.
    return _KEYS.setdefault(cdata, str(140000000000000 + 64 * len(_KEYS)))


_source = textwrap.dedent(inspect.getsource(torch.serialization._legacy_save))
assert _source.count('str(storage._cdata)') == 2, 'torch changed _legacy_save; update the key patch'
exec(_source.replace('str(storage._cdata)', '_aisc_stable_key(storage._cdata)'), torch.serialization.__dict__)
torch.serialization.__dict__['_aisc_stable_key'] = _stable_key


def save_torch(obj, rel, legacy=False):
    path = target(rel)
    _KEYS.clear()
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    WRITTEN.append((rel, 'torch'))
    return path


def target(rel):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def write_bytes(rel, data, group):
    with open(target(rel), 'wb') as f:
        f.write(data)
    WRITTEN.append((rel, group))


# ---------------------------------------------------------------------------------------------
# Proofs.

class Recorder(pickle.Unpickler):
    """CPython's own unpickler, stopped at the first import it reaches: that name is recorded."""

    def __init__(self, f):
        super().__init__(f)
        self.reached = []

    def find_class(self, module, name):
        self.reached.append((module, name))
        raise pickle.UnpicklingError(f'recorder stops at {module}.{name}')

    def persistent_load(self, pid):
        return None


def first_import(data, offset=0):
    """The import CPython's unpickler reaches first in the pickle at `offset`, or None."""
    f = io.BytesIO(data)
    f.seek(offset)
    r = Recorder(f)
    try:
        r.load()
    except Exception:  # noqa: BLE001 - any stop is fine; what matters is what was reached
        pass
    return r.reached[0] if r.reached else None


def static_imports(data):
    """The (module, name) pairs a pickle's opcodes name: GLOBAL/INST args, STACK_GLOBAL operands."""
    names, strings = set(), []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ('GLOBAL', 'INST'):
            names.add(tuple(arg.split(' ', 1)))
        elif op.name in ('SHORT_BINUNICODE', 'BINUNICODE', 'BINUNICODE8', 'UNICODE'):
            strings.append(arg)
        elif op.name == 'STACK_GLOBAL':
            names.add((strings[-2], strings[-1]))
    return names


def note_imports(group, data):
    BENIGN_IMPORTS.setdefault(group, set()).update(static_imports(data))


def torch_pickles(path):
    """The pickles in a torch file: data.pkl of a zip, or the five of the legacy format."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] == b'PK\x03\x04':
        with zipfile.ZipFile(path) as z:
            return [z.read(n) for n in z.namelist() if n.endswith('/data.pkl')]
    f, out = io.BytesIO(data), []
    for _ in range(5):  # magic, protocol, sys_info, the object, the storage keys
        start = f.tell()
        pickletools.dis(f, out=io.StringIO())
        out.append(data[start:f.tell()])
    return out


class AllowlistRecorder(pickle.Unpickler):
    """CPython's unpickler run to the end, every import it reaches checked against torch's
    weights_only allowlist and answered with an inert stand-in: nothing of torch is built."""

    def __init__(self, f, allowed):
        super().__init__(f)
        self.allowed = allowed
        self.reached = set()

    def find_class(self, module, name):
        self.reached.add((module, name))
        if f'{module}.{name}' not in self.allowed:
            raise pickle.UnpicklingError(f'{module}.{name} is outside the weights_only allowlist')
        return collections.OrderedDict if (module, name) == ('collections', 'OrderedDict') else StandIn

    def persistent_load(self, pid):
        return StandIn()


class StandIn:
    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass


TORCH_ALLOWED = set(torch._weights_only_unpickler._get_allowed_globals())
# Files this torch's weights_only unpickler refuses for an opcode it lacks (1.13 has no BINFLOAT),
# not for an import: proved by CPython's unpickler reaching only allowed names instead.
REFUSED_FOR_OPCODE = {}


def prove_benign_torch(path, expected=None):
    pickles = torch_pickles(path)
    for p in pickles:
        note_imports('torch', p)
        f = io.BytesIO(p)
        recorder = AllowlistRecorder(f, TORCH_ALLOWED)
        recorder.load()
        assert f.tell() == len(p), f'{path}: a pickle stops before its end'
    try:
        loaded = torch.load(path, weights_only=True)
    except pickle.UnpicklingError as error:
        opcode = re.search(r'Unsupported operand (\d+)', str(error))
        assert opcode, f'{path}: weights_only refuses it: {error}'
        REFUSED_FOR_OPCODE[os.path.relpath(path, ROOT)] = pickletools.code2op[chr(int(opcode[1]))].name
        return
    if expected is not None:
        assert same(loaded, expected), f'{path}: loads as something else'


def same(a, b):
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and bool((a == b).all() if a.numel() else True)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def prove_refused_by_torch(path, name):
    try:
        torch.load(path, weights_only=True)
    except Exception as error:  # noqa: BLE001
        assert name in str(error) or 'Unsupported' in str(error), f'{path}: refused for another reason: {error!r}'
        return
    raise AssertionError(f'{path}: torch.load(weights_only=True) loaded it')


# ---------------------------------------------------------------------------------------------
# Benign torch files.

TORCH_DTYPES = [torch.float32, torch.float16, torch.float64, torch.bfloat16, torch.int8, torch.int16, torch.int32,
                torch.int64, torch.uint8, torch.bool, torch.complex64, torch.complex128]
# Newer dtypes, written when this torch has and can save them (1.13 has none of these).
for _name in ['float8_e4m3fn', 'float8_e5m2', 'uint16', 'uint32', 'uint64']:
    if hasattr(torch, _name):
        TORCH_DTYPES.append(getattr(torch, _name))


def values(gen):
    return {
        'ones': torch.ones(4),
        'zeros': torch.zeros(4),
        'minus-one': torch.full((4,), -1.0),
        'half': torch.full((4,), 0.5),
        'arange': torch.arange(8, dtype=torch.float64),
        'randn': torch.randn(4, generator=gen, dtype=torch.float64) * 4,
    }


def make_single_tensors():
    gen = torch.Generator().manual_seed(0)
    i = 0
    for dtype in TORCH_DTYPES:
        name = str(dtype).removeprefix('torch.')
        for kind, value in values(gen).items():
            try:
                tensor = value.to(dtype)
            except (RuntimeError, TypeError):
                continue
            for layout, legacy in (('zip', False), ('legacy', True)):
                ext = EXTENSIONS[i % len(EXTENSIONS)]
                i += 1
                try:
                    path = save_torch(tensor, f'{layout}/{name}-{kind}{ext}', legacy)
                except (RuntimeError, KeyError) as error:
                    print(f'skipped {layout}/{name}-{kind}: {error}', file=sys.stderr)
                    WRITTEN.pop()
                    continue
                prove_benign_torch(path, tensor)


def make_odd_tensors():
    gen = torch.Generator().manual_seed(1)
    base = torch.randn(4, 4, generator=gen)
    cases = {
        'scalar': torch.tensor(3.5),
        'empty': torch.empty(0, 3),
        'views-share-storage': {'whole': base, 'row': base[1], 'transposed': base.t(), 'column': base[:, 2]},
        'parameter': torch.nn.Parameter(torch.randn(3, generator=gen)),
        'nested-containers': {'list': [torch.ones(2), 1, 'two', None], 'tuple': (torch.zeros(2), 2.5, True)},
        'int64-large': torch.tensor([2**62, -2**62, 2**31, 0], dtype=torch.int64),
    }
    for i, (name, obj) in enumerate(cases.items()):
        for layout, legacy in (('zip', False), ('legacy', True)):
            path = save_torch(obj, f'{layout}/misc-{name}{EXTENSIONS[i % 4]}', legacy)
            prove_benign_torch(path, obj)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = torch.nn.Linear(4, 4)
        self.norm = torch.nn.LayerNorm(4)


def make_big_state_dict():
    torch.manual_seed(2)
    model = torch.nn.Sequential(*[Block() for _ in range(80)])  # 320 tensors
    sd = model.state_dict()
    assert len(sd) >= 300
    for layout, legacy in (('zip', False), ('legacy', True)):
        path = save_torch(sd, f'state-dict-{layout}/pytorch_model.bin', legacy)
        prove_benign_torch(path, sd)


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.up = torch.nn.Linear(4, 8)
        self.act = torch.nn.GELU()
        self.down = torch.nn.Linear(8, 2)

    def forward(self, x):
        return self.down(self.act(self.up(x)))


MODULES = {
    'transformer-encoder-layer': (lambda: torch.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True), lambda: torch.randn(1, 3, 8)),
    'lstm': (lambda: torch.nn.LSTM(4, 4), lambda: torch.randn(3, 1, 4)),
    'layernorm': (lambda: torch.nn.LayerNorm(8), lambda: torch.randn(2, 8)),
    'embedding': (lambda: torch.nn.Embedding(16, 4), lambda: torch.tensor([1, 5, 7])),
    'conv2d': (lambda: torch.nn.Conv2d(2, 2, 3), lambda: torch.randn(1, 2, 4, 4)),
    'mlp': (Mlp, lambda: torch.randn(2, 4)),
}


def output_sum(out):
    return (out[0] if isinstance(out, tuple) else out).float().sum()


def make_modules():
    for m, (name, (make, example)) in enumerate(MODULES.items()):
        for dtype in (torch.float32, torch.float16, torch.bfloat16):
            torch.manual_seed(10 + m)
            model = make()
            # One Adam step in float32 (this torch has no half Adam on CPU), then the model and the
            # optimizer's moments cast to the dtype, as a half-precision checkpoint holds them.
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            output_sum(model(example())).backward()
            opt.step()
            if dtype != torch.float32:
                model = model.to(dtype)
                for state in opt.state.values():
                    for key in ('exp_avg', 'exp_avg_sq'):
                        state[key] = state[key].to(dtype)
            sd = model.state_dict()
            full = {'model': sd, 'optimizer': opt.state_dict(), 'epoch': 3}
            short = str(dtype).removeprefix('torch.')
            for layout, legacy in (('zip', False), ('legacy', True)):
                path = save_torch(sd, f'nn-{layout}/{name}-{short}{EXTENSIONS[m % 4]}', legacy)
                prove_benign_torch(path, sd)
                path = save_torch(full, f'nn-{layout}/{name}-{short}-checkpoint.ckpt', legacy)
                prove_benign_torch(path, full)


# ---------------------------------------------------------------------------------------------
# Benign numpy files.

def numpy_arrays():
    rng = np.random.default_rng(3)
    plain = {n: np.arange(4).astype(n) for n in ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32',
                                                  'uint64', 'float16', 'float32', 'float64', 'longdouble', 'complex64',
                                                  'complex128', 'clongdouble']}
    for name in ('longdouble', 'clongdouble'):
        plain[name] = zero_padding(plain[name])
    plain['float32-randn'] = rng.standard_normal(6).astype(np.float32)
    plain['float32-big-endian'] = np.arange(4, dtype='>f4')
    plain['float64-fortran'] = np.asfortranarray(rng.standard_normal((3, 2)))
    plain['float64-0d'] = np.array(1.5)
    plain['float32-empty'] = np.zeros((0, 4), dtype=np.float32)
    plain['datetime64'] = np.array(['2024-01-01', '2025-06-30'], dtype='datetime64[D]')
    plain['timedelta64'] = np.array([1, 2, 3], dtype='timedelta64[s]')
    plain['structured'] = np.array([(1, (2.0, 3.0), b'ab'), (4, (5.0, 6.0), b'cd')], dtype=[('id', '<i4'), ('xy', '<f8', (2,)), ('tag', 'S2')])
    plain['unicode'] = np.array(['alpha', 'beta', 'ünï'], dtype='U5')
    plain['bytes'] = np.array([b'ab', b'\x80\x02', b'c\n'], dtype='S2')
    plain['void'] = np.array([b'\x00\x01\x02\x03'], dtype='V4')
    return plain


def zero_padding(array):
    """x87's 80-bit long double sits in 16 bytes; the 6 unused ones are whatever memory held."""
    if np.finfo(np.longdouble).nmant != 63 or np.dtype(np.longdouble).itemsize != 16:
        return array
    data = bytearray(array.tobytes())
    for at in range(0, len(data), 16):
        data[at + 10:at + 16] = bytes(6)
    return np.frombuffer(bytes(data), dtype=array.dtype).copy()


def object_arrays():
    return {
        'object-ints': np.array([1, 2, 3, 2**70], dtype=object),
        'object-strs': np.array(['posix', 'system', 'true'], dtype=object),
        'object-mixed': np.array([1, 'two', 3.0, None, b'four'], dtype=object),
    }


def prove_npy(path, expected, allow_pickle=False):
    loaded = np.load(path, allow_pickle=allow_pickle)
    assert loaded.dtype == expected.dtype and loaded.shape == expected.shape, path
    assert (loaded.tolist() == expected.tolist()) if expected.dtype.hasobject else loaded.tobytes() == expected.tobytes(), path


def make_numpy():
    plain = numpy_arrays()
    for name, array in plain.items():
        np.save(target(f'numpy/{name}.npy'), array)
        WRITTEN.append((f'numpy/{name}.npy', 'numpy'))
        prove_npy(target(f'numpy/{name}.npy'), array)
    # Header versions 2.0 (4-byte length) and 3.0 (UTF-8 field names), as numpy writes them.
    with open(target('numpy/version-2.npy'), 'wb') as f:
        np.lib.format.write_array(f, plain['float32'], version=(2, 0))
    WRITTEN.append(('numpy/version-2.npy', 'numpy'))
    utf8 = np.zeros(2, dtype=[('名前', '<f4')])
    np.save(target('numpy/version-3.npy'), utf8)
    WRITTEN.append(('numpy/version-3.npy', 'numpy'))
    with open(target('numpy/version-3.npy'), 'rb') as f:
        assert f.read(8)[6] == 3, 'expected numpy to write a version-3 header'
    prove_npy(target('numpy/version-2.npy'), plain['float32'])
    prove_npy(target('numpy/version-3.npy'), utf8)

    objects = object_arrays()
    for name, array in objects.items():
        path = target(f'numpy/{name}.npy')
        np.save(path, array, allow_pickle=True)
        WRITTEN.append((f'numpy/{name}.npy', 'numpy'))
        prove_npy(path, array, allow_pickle=True)
        with open(path, 'rb') as f:
            data = f.read()
        offset = npy_data_offset(data)
        assert first_import_allowed(data[offset:]), f'{path}: its pickle reaches an import outside numpy'
        note_imports('numpy object arrays', data[offset:])

    several = {k: plain[k] for k in ['bool', 'int64', 'uint16', 'float16', 'complex64', 'structured', 'unicode', 'bytes']}
    np.savez(target('numpy/several.npz'), **several)
    np.savez_compressed(target('numpy/several-compressed.npz'), **several)
    np.savez(target('numpy/objects.npz'), **objects)
    np.savez_compressed(target('numpy/objects-compressed.npz'), **objects)
    for name, contents, allow in (('several', several, False), ('several-compressed', several, False),
                                  ('objects', objects, True), ('objects-compressed', objects, True)):
        WRITTEN.append((f'numpy/{name}.npz', 'numpy'))
        with np.load(target(f'numpy/{name}.npz'), allow_pickle=allow) as z:
            assert sorted(z.files) == sorted(contents), name
            for key, array in contents.items():
                assert z[key].dtype == array.dtype and z[key].shape == array.shape, (name, key)


def npy_data_offset(data):
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    np.lib.format._read_array_header(f, version)
    return f.tell()


NUMPY_RECONSTRUCT = {('numpy.core.multiarray', '_reconstruct'), ('numpy', 'ndarray'), ('numpy', 'dtype')}


def first_import_allowed(pickle_bytes):
    return static_imports(pickle_bytes) <= NUMPY_RECONSTRUCT


# ---------------------------------------------------------------------------------------------
# Raw blobs: nanoGPT token shards and float32 dumps.

def make_raw():
    for seed in range(10):
        rng = np.random.default_rng(100 + seed)
        tokens = rng.integers(0, 50257, size=int(rng.integers(200, 600)))
        write_tofile(f'tokens/train-{seed:03d}.bin', np.array(tokens, dtype=np.uint16))
    # Shards whose first token's bytes are a pickle's PROTO opcode (640 = 80 02, 1152 = 80 04,
    # 1408 = 80 05) and one opening with GLOBAL's 'c' (25187 = 63 62): real token ids.
    for name, first in (('proto2', 640), ('proto4', 1152), ('proto5', 1408), ('global-c', 25187)):
        rng = np.random.default_rng(first)
        tokens = np.concatenate([[first], rng.integers(0, 50257, size=300)])
        write_tofile(f'tokens/val-{name}.bin', np.array(tokens, dtype=np.uint16))
    for seed in range(4):
        rng = np.random.default_rng(200 + seed)
        write_tofile(f'raw/float32-randn-{seed}.bin', rng.standard_normal(256).astype(np.float32))
    # 1.0 in bfloat16 is 80 3f: a raw bf16 dump opens like a protocol-63 pickle.
    write_tofile('raw/bfloat16-ones.bin', np.full(64, 0x3f80, dtype=np.uint16))


def write_tofile(rel, array):
    path = target(rel)
    array.tofile(path)
    WRITTEN.append((rel, 'raw'))
    assert np.array_equal(np.fromfile(path, dtype=array.dtype), array), rel
    with open(path, 'rb') as f:
        data = f.read()
    reached = first_import(data)
    assert reached is None, f'{rel}: CPython unpickling it reaches an import: {reached}'


# ---------------------------------------------------------------------------------------------
# Malicious files, by bytes. The payload is posix.system('true').

def binunicode(s):
    b = s.encode('utf-8', 'surrogatepass')
    return b'X' + struct.pack('<I', len(b)) + b


def short_binunicode(raw):
    return b'\x8c' + bytes([len(raw)]) + raw


CALL_TRUE = b'(' + binunicode('true') + b'tR'  # MARK, arg, TUPLE, REDUCE
EVIL_GLOBAL = b'cposix\nsystem\n' + CALL_TRUE
# The memo trick: CPython's int() reads '1_0' as 10, a naive reader as 1. The decoys at 1 and 2
# spell the allowed collections.OrderedDict; what CPython fetches is posix.system.
EVIL_MEMO = (b'Vcollections\np1\n0' + b'VOrderedDict\np2\n0' + b'Vposix\np1_0\n0' + b'Vsystem\np2_0\n0'
             + b'g1_0\ng2_0\n\x93' + CALL_TRUE)


def splice(pickle_bytes, call):
    """The call spliced after PROTO, its result popped: the pickle still returns its object."""
    assert pickle_bytes[:1] == b'\x80', 'expected a pickle opening with PROTO'
    return pickle_bytes[:2] + call + b'0' + pickle_bytes[2:]


def rezip(src, dst, replace):
    """A copy of a zip checkpoint with members replaced, written by Python's zipfile (stored)."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, 'w', zipfile.ZIP_STORED) as out:
        for info in z.infolist():
            data = z.read(info.filename)
            out.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), replace.get(info.filename.split('/', 1)[-1], data))


def legacy_with(sd, call):
    buf = io.BytesIO()
    _KEYS.clear()
    torch.save(sd, buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    f = io.BytesIO(data)
    for _ in range(3):  # magic, protocol, sys_info
        pickletools.dis(f, out=io.StringIO())
    at = f.tell()
    return data[:at] + splice(data[at:], call), at


def make_malicious():
    torch.manual_seed(4)
    sd = torch.nn.Linear(2, 2).state_dict()
    clean = target('malicious/.clean.pt')
    buf = io.BytesIO()
    torch.save(sd, buf)  # to a buffer, so that its members are under archive/, as torch names them then
    with open(clean, 'wb') as f:
        f.write(buf.getvalue())
    with zipfile.ZipFile(clean) as z:
        data_pkl = z.read(next(n for n in z.namelist() if n.endswith('/data.pkl')))
    # The copy with data.pkl unchanged loads: the zip Python writes is one torch reads.
    rezip(clean, target('malicious/.rezipped.pt'), {})
    assert same(torch.load(target('malicious/.rezipped.pt'), weights_only=True), sd)
    os.remove(target('malicious/.rezipped.pt'))

    cases = []  # (name, bytes (None: written already), where its pickle starts, a torch file?)
    cases.append(('plain-proto2.pkl', b'\x80\x02' + EVIL_GLOBAL + b'.', 0, False))
    rezip(clean, target('malicious/zip-data-pkl.pt'), {'data.pkl': splice(data_pkl, EVIL_GLOBAL)})
    cases.append(('zip-data-pkl.pt', None, None, True))
    legacy, at = legacy_with(sd, EVIL_GLOBAL)
    cases.append(('legacy-main-pickle.pth', legacy, at, True))
    cases.append(('memo-underscore.pkl', b'\x80\x04' + EVIL_MEMO + b'.', 0, False))
    surrogate = b'\x80\x04' + short_binunicode(b'\xed\xa0\x80') + b'0' + short_binunicode(b'posix') + short_binunicode(b'system') + b'\x93' + CALL_TRUE + b'.'
    cases.append(('surrogate-string.pkl', surrogate, 0, False))
    body = short_binunicode(b'posix') + short_binunicode(b'system') + b'\x93' + CALL_TRUE + b'.'
    cases.append(('frame-stack-global.pkl', b'\x80\x04\x95' + struct.pack('<Q', len(body)) + body, 0, False))
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(np.empty(1, dtype=object)))
    npy = header.getvalue() + b'\x80\x03' + EVIL_GLOBAL + b'.'
    cases.append(('object-array.npy', npy, len(header.getvalue()), False))
    npz = io.BytesIO()
    with zipfile.ZipFile(npz, 'w', zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo('arr_0.npy', date_time=(1980, 1, 1, 0, 0, 0)), npy)
    cases.append(('object-array.npz', npz.getvalue(), None, False))
    cases.append(('model.safetensors', b'\x80\x02' + EVIL_GLOBAL + b'.', 0, False))
    legacy_memo, at = legacy_with(sd, EVIL_MEMO)
    cases.append(('legacy-memo-underscore.bin', legacy_memo, at, True))
    os.remove(clean)

    for rel, data, offset, is_torch in cases:
        path = target(f'malicious/{rel}')
        if data is not None:
            with open(path, 'wb') as f:
                f.write(data)
        WRITTEN.append((f'malicious/{rel}', 'malicious'))
        with open(path, 'rb') as f:
            data = f.read()
        if rel == 'zip-data-pkl.pt':
            with zipfile.ZipFile(path) as z:
                data, offset = z.read('archive/data.pkl'), 0
        if rel == 'object-array.npz':
            with zipfile.ZipFile(path) as z:
                data = z.read('arr_0.npy')
            offset = npy_data_offset(data)
            try:
                np.load(path)['arr_0']
                raise AssertionError('np.load(allow_pickle=False) loaded an object array')
            except ValueError:
                pass
        if rel == 'object-array.npy':
            assert offset == npy_data_offset(data)
            try:
                np.load(path)
                raise AssertionError('np.load(allow_pickle=False) loaded an object array')
            except ValueError:
                pass
        reached = first_import(data, offset)
        assert reached == ('posix', 'system'), f'{rel}: CPython reaches {reached}, not posix.system'
        if is_torch:
            prove_refused_by_torch(path, 'posix')


# ---------------------------------------------------------------------------------------------

def write_readme():
    groups = {}
    for rel, group in WRITTEN:
        top = rel.split('/', 1)[0]
        groups.setdefault(top, [0, 0])
        groups[top][0] += 1
        groups[top][1] += os.path.getsize(os.path.join(ROOT, rel))
    described = {
        'zip': 'torch.save of one tensor per dtype × value (ones, zeros, minus-one, half, arange, randn), zip format; misc-* are a 0-d tensor, an empty one, views sharing a storage, a Parameter, nested containers, large int64s',
        'legacy': 'the same in the legacy format (`_use_new_zipfile_serialization=False`)',
        'state-dict-zip': 'a state dict of 320 tensors (80 × Linear(4,4) + LayerNorm(4)), zip format, as `pytorch_model.bin`',
        'state-dict-legacy': 'the same, legacy format',
        'nn-zip': 'state dicts of TransformerEncoderLayer, LSTM, LayerNorm, Embedding, Conv2d and an MLP in float32, float16 and bfloat16; `*-checkpoint.ckpt` is `{model, optimizer (Adam after one step), epoch: 3}`',
        'nn-legacy': 'the same, legacy format',
        'numpy': '`np.save` of every numpy dtype (and big-endian, Fortran-order, 0-d, empty, header versions 2 and 3); object arrays of ints and strings (pickles importing only numpy); `np.savez` and `np.savez_compressed` of several',
        'tokens': "nanoGPT-style token shards, `np.array(tokens, dtype=np.uint16).tofile(...)`; `val-*` open with real token ids whose bytes are a pickle's PROTO or GLOBAL opcode",
        'raw': 'float32 blobs from `tofile`, and a bfloat16 dump of ones (80 3f …)',
        'malicious': 'written by bytes; each calls `posix.system("true")`, see below',
    }
    lines = [
        '# Real checkpoints',
        '',
        'Files made by the real tools, to judge the content gate on what users actually have. Every',
        'file outside `malicious/` is benign: `torch.load(path, weights_only=True)` or `np.load` (with',
        '`allow_pickle=True` for object arrays) loads it, and raw blobs reach no import when CPython',
        "unpickles them. Made by `scripts/make-checkpoints.py`, which proves each of these itself.",
        '',
        f'- Python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__} (Debian packages)',
        f'- {len(WRITTEN)} files, {sum(g[1] for g in groups.values())} bytes',
        '',
        'Regenerate (replaces this folder; deterministic, so an unchanged torch and numpy write the same bytes):',
        '',
        '```sh',
        '/usr/bin/python3 scripts/make-checkpoints.py',
        '```',
        '',
        '| folder | files | bytes | what |',
        '| --- | --- | --- | --- |',
    ]
    lines += [f'| `{top}/` | {n} | {size} | {described.get(top, "")} |' for top, (n, size) in groups.items()]
    lines += [
        '',
        "torch 1.13 names a legacy checkpoint's storages by CPython pointers; the script names them by",
        'order of first appearance (same 15-digit shape) so that the bytes do not change between runs.',
        'torch 1.13 cannot save complex32 and has no float8 or uint16-64 dtypes; a newer torch adds them.',
        '',
        f'torch {torch.__version__}\'s `weights_only` unpickler lacks some opcodes that plain data needs (1.13 has',
        'no BINFLOAT, so any float in a dict, as in an optimizer state, stops it). Those files are',
        "proved by CPython's unpickler instead, run to the end with every import checked against the",
        f'same allowlist; {len(REFUSED_FOR_OPCODE)} files are proved that way: '
        + ', '.join(f'{n} in `{top}/` ({op})' for (top, op), n in sorted(collections.Counter((rel.split('/')[0], op) for rel, op in REFUSED_FOR_OPCODE.items()).items()))
        + ' (every `*-checkpoint.ckpt`, and `misc-nested-containers`).',
        '',
        '## What the benign pickles import',
        '',
    ]
    for group, names in sorted(BENIGN_IMPORTS.items()):
        lines.append(f'- {group}: ' + ', '.join(f'`{m}.{n}`' for m, n in sorted(names)))
    lines += [
        '',
        '## malicious/',
        '',
        'Written by bytes, never by running a payload. The script proves each one: an Unpickler whose',
        '`find_class` records and raises reaches `posix.system`, and `torch.load(weights_only=True)`',
        'refuses the torch ones.',
        '',
        '- `plain-proto2.pkl`: a protocol-2 pickle, GLOBAL posix system, called with "true".',
        "- `zip-data-pkl.pt`: a real zip checkpoint whose `archive/data.pkl` calls it first and pops the result, then builds the state dict (rewritten by Python's zipfile).",
        '- `legacy-main-pickle.pth`: a real legacy checkpoint whose main pickle does the same.',
        "- `memo-underscore.pkl`: `p1_0`/`g1_0` memo indices (CPython's int() reads 10) fetch posix and system for STACK_GLOBAL; a reader that stops at the underscore fetches the decoy collections.OrderedDict.",
        '- `surrogate-string.pkl`: a SHORT_BINUNICODE of a UTF-8-encoded surrogate (ED A0 80; CPython decodes with surrogatepass) before the STACK_GLOBAL.',
        '- `frame-stack-global.pkl`: a STACK_GLOBAL inside a protocol-4 FRAME.',
        '- `object-array.npy`: an object-dtype .npy whose data pickle calls it (np.load refuses it unless allow_pickle=True).',
        '- `object-array.npz`: a zip holding that .npy as `arr_0.npy`.',
        '- `model.safetensors`: a protocol-2 pickle with the import, named as safetensors.',
        '- `legacy-memo-underscore.bin`: the legacy checkpoint with the memo trick spliced into its main pickle.',
        '',
    ]
    with open(os.path.join(ROOT, 'README.md'), 'w') as f:
        f.write('\n'.join(lines))


def main():
    warnings.filterwarnings('ignore', 'Stored array in format 3.0')
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT)
    make_single_tensors()
    make_odd_tensors()
    make_big_state_dict()
    make_modules()
    make_numpy()
    make_raw()
    make_malicious()
    write_readme()
    digest = hashlib.sha256()
    for rel, _ in sorted(WRITTEN):
        with open(os.path.join(ROOT, rel), 'rb') as f:
            digest.update(rel.encode() + b'\0' + hashlib.sha256(f.read()).digest())
    print(f'{len(WRITTEN)} files in {ROOT}; tree digest {digest.hexdigest()}')


if __name__ == '__main__':
    main()
