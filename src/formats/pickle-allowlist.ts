/**
 * Imports that weight files need and that run no code of the file's choosing: PyTorch's tensor,
 * parameter and storage rebuild functions, dtypes, layouts and typed storages; numpy's array
 * reconstruction; plain containers. Each is an exact (module, name) pair as the pickle writes it:
 * a dotted attribute path (`torch` + `_utils.x`) is never one of these.
 */
const TORCH_UTILS = [
  '_rebuild_tensor',
  '_rebuild_tensor_v2',
  '_rebuild_tensor_v3',
  '_rebuild_parameter',
  '_rebuild_parameter_with_state',
  '_rebuild_qtensor',
  '_rebuild_sparse_tensor',
  '_rebuild_meta_tensor_no_storage',
  '_rebuild_nested_tensor',
  '_rebuild_device_tensor_from_numpy',
];
const TORCH_DTYPES = [
  'float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16',
  'float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz',
  'complex32', 'complex64', 'cfloat', 'complex128', 'cdouble',
  'uint8', 'int8', 'int16', 'short', 'int32', 'int', 'int64', 'long', 'bool',
  'uint16', 'uint32', 'uint64', 'qint8', 'quint8', 'qint32', 'quint4x2', 'quint2x4',
];
const TORCH_STORAGES = [
  'FloatStorage', 'DoubleStorage', 'HalfStorage', 'BFloat16Storage', 'LongStorage', 'IntStorage',
  'ShortStorage', 'CharStorage', 'ByteStorage', 'BoolStorage', 'ComplexFloatStorage', 'ComplexDoubleStorage',
  'QInt8Storage', 'QUInt8Storage', 'QInt32Storage', 'QUInt4x2Storage', 'QUInt2x4Storage', 'UntypedStorage',
];
/** Legacy tensor types, as torch's oldest tar format names each tensor's type (torch's own weights_only allows them). */
const TORCH_TENSORS = ['FloatTensor', 'DoubleTensor', 'HalfTensor', 'BFloat16Tensor', 'LongTensor', 'IntTensor', 'ShortTensor', 'CharTensor', 'ByteTensor', 'BoolTensor'];
const TORCH_OTHER = ['Size', 'device', 'strided', 'sparse_coo', 'sparse_csr', 'per_tensor_affine', 'per_channel_affine', 'per_tensor_symmetric', 'per_channel_symmetric'];

export const SAFE_PICKLE_IMPORTS: ReadonlySet<string> = new Set([
  ...TORCH_UTILS.map((name) => `torch._utils.${name}`),
  ...[...TORCH_DTYPES, ...TORCH_STORAGES, ...TORCH_TENSORS, ...TORCH_OTHER].map((name) => `torch.${name}`),
  'torch._tensor._rebuild_from_type_v2',
  'torch.nn.parameter.Parameter',
  'torch.serialization._get_layout',
  'collections.OrderedDict',
  'builtins.set',
  'builtins.frozenset',
  'builtins.bytearray',
  'builtins.complex',
  'builtins.range',
  '__builtin__.xrange',
  '__builtin__.set',
  '__builtin__.frozenset',
  '__builtin__.bytearray',
  '__builtin__.complex',
  '_codecs.encode',
  'copyreg._reconstructor',
  'copy_reg._reconstructor',
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  'numpy.core.numeric._frombuffer',
  'numpy._core.numeric._frombuffer',
  'numpy.ndarray',
  'numpy.dtype',
]);

/** `module.name` for an import; `module:attr.path` when the name is a dotted attribute path. */
export function toImportName(module: string, name: string): string {
  return name.includes('.') ? `${module}:${name}` : `${module}.${name}`;
}
