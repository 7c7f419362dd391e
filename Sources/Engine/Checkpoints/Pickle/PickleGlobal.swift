/// The only globals a pickle may name. Each is recognised by its module and name and mapped to a
/// builder written in Swift (`PickleMachine+Globals.swift`); nothing is imported, looked up or called.
/// Any other global, `os.system` or `builtins.eval` or a user's own class, stops the read with an
/// error that names it.
public enum PickleGlobal: Sendable, Equatable {
    // Containers.
    case orderedDict  // collections.OrderedDict: state_dicts
    case easyDict  // dnnlib.util.EasyDict: NVIDIA's settings dicts
    case namespace  // argparse.Namespace: rosinality's `args`, kept as an inert instance
    case builtinSet, builtinFrozenSet  // protocol-2 pickles spell sets as set([...])
    case codecsEncode  // protocol-2 pickles spell bytes as _codecs.encode(str, 'latin1')
    case copyregReconstructor  // protocol-0/1 objects: copyreg._reconstructor(cls, object, None)
    case builtinObject  // the `object` base class that copyreg._reconstructor names
    // NVIDIA's persistent classes.
    case reconstructPersistentObject  // torch_utils.persistence._reconstruct_persistent_obj
    // Tensors and storages.
    case rebuildTensor, rebuildTensorV2, rebuildParameter, rebuildParameterWithState, rebuildFromTypeV2
    case tensorClass  // torch.Tensor / torch.nn.parameter.Parameter, only as _rebuild_from_type_v2's type
    case storageClass(TorchDType)  // torch.FloatStorage ...: named by persistent ids
    case loadFromBytes  // torch.storage._load_from_bytes: a storage as a nested legacy torch.save stream
    // numpy, under both spellings (numpy.core before numpy 2, numpy._core after).
    case numpyScalar, numpyDType, numpyReconstruct, numpyNDArray

    /// The allow-list proper.
    static func resolve(module: String, name: String) -> PickleGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("dnnlib.util", "EasyDict"), ("dnnlib", "EasyDict"): return .easyDict
        case ("argparse", "Namespace"): return .namespace
        case ("builtins", "set"), ("__builtin__", "set"): return .builtinSet
        case ("builtins", "frozenset"), ("__builtin__", "frozenset"): return .builtinFrozenSet
        case ("_codecs", "encode"): return .codecsEncode
        case ("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor"): return .copyregReconstructor
        case ("builtins", "object"), ("__builtin__", "object"): return .builtinObject
        case ("torch_utils.persistence", "_reconstruct_persistent_obj"): return .reconstructPersistentObject
        case ("torch._utils", "_rebuild_tensor"): return .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameterWithState
        case ("torch._tensor", "_rebuild_from_type_v2"): return .rebuildFromTypeV2
        case ("torch", "Tensor"), ("torch._tensor", "Tensor"), ("torch.nn.parameter", "Parameter"): return .tensorClass
        case ("torch.storage", "_load_from_bytes"): return .loadFromBytes
        case ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"): return .numpyScalar
        case ("numpy", "dtype"): return .numpyDType
        case ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"): return .numpyReconstruct
        case ("numpy", "ndarray"): return .numpyNDArray
        case ("torch", _), ("torch.storage", _):
            return TorchDType(storageClassName: name).map { .storageClass($0) }
        default: return nil
        }
    }

    /// The name as Python spells it, for messages.
    var qualifiedName: String {
        switch self {
        case .orderedDict: "collections.OrderedDict"
        case .easyDict: "dnnlib.util.EasyDict"
        case .namespace: "argparse.Namespace"
        case .builtinSet: "builtins.set"
        case .builtinFrozenSet: "builtins.frozenset"
        case .codecsEncode: "_codecs.encode"
        case .copyregReconstructor: "copyreg._reconstructor"
        case .builtinObject: "builtins.object"
        case .reconstructPersistentObject: "torch_utils.persistence._reconstruct_persistent_obj"
        case .rebuildTensor: "torch._utils._rebuild_tensor"
        case .rebuildTensorV2: "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: "torch._utils._rebuild_parameter_with_state"
        case .rebuildFromTypeV2: "torch._tensor._rebuild_from_type_v2"
        case .tensorClass: "torch.Tensor"
        case .storageClass(let dtype): "torch.\(dtype.storageClassName)"
        case .loadFromBytes: "torch.storage._load_from_bytes"
        case .numpyScalar: "numpy.core.multiarray.scalar"
        case .numpyDType: "numpy.dtype"
        case .numpyReconstruct: "numpy.core.multiarray._reconstruct"
        case .numpyNDArray: "numpy.ndarray"
        }
    }
}
