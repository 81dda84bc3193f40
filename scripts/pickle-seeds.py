"""Seeds for scripts/fuzz-pickle.js: what pickle.dumps writes for a varied set of objects, with
every protocol 0-5. Prints JSON lines {"label": ..., "b": base64}. Nothing here is loaded: the
objects that name posix.system, builtins.eval and the like reference those functions only."""

import base64
import collections
import json
import operator
import os
import pickle
import sys


class Thing:
    """A plain class of __main__: its import is refused."""

    def __init__(self, value):
        self.value = value


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a, self.b = 1, [2]


class WithNewArgs:
    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __getnewargs_ex__(self):
        return (1, "two"), {"three": 3}


class Runs:
    """Reduces to a call of a function that runs code (never called here)."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


class MyList(list):
    pass


class MyDict(dict):
    pass


def objects():
    shared = [1, "shared"]
    recursive = [1, 2]
    recursive.append(recursive)
    cyclic = {"k": None}
    cyclic["k"] = cyclic
    ints = [0, 1, -1, 127, 128, 255, 256, -256, 65535, 65536, 2**31 - 1, -(2**31), 2**31, 2**63, -(2**63) - 1, 2**64, 10**40, -(10**300), 2**2000]
    yield "ints", ints
    yield "bools", [True, False, None]
    yield "floats", [0.0, -0.0, 1.5, -2.25e-310, 1e308, float("inf"), float("-inf"), float("nan"), 3.141592653589793]
    yield "str", ["", "a", "ascii text", "caf\u00e9", "\u20ac\u4e2d\U0001f600", "\ud800", "a\udcffb", "line\nbreak\\back", "'quote\"", "x" * 300]
    yield "bytes", [b"", b"\x00\xff", b"abc" * 100, bytearray(b"\x01\x02"), bytearray()]
    yield "tuples", [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ((),)]
    yield "list", [[], [1], list(range(20)), [[[]]]]
    yield "dict", {"a": 1, 2: "b", (1, 2): [3], None: {}}
    yield "big dict", {i: str(i) for i in range(30)}
    yield "sets", [set(), {1, 2, 3}, frozenset(), frozenset({"a", (1,)}), set(range(40))]
    yield "shared", [shared, shared, (shared,)]
    yield "recursive list", recursive
    yield "recursive dict", cyclic
    yield "ordered dict", collections.OrderedDict([("weight", [1.0, 2.0]), ("bias", (0.5,))])
    yield "complex", [1 + 2j, complex(0, -1)]
    yield "object", Thing(Thing([1, 2]))
    yield "slots", Slotted()
    yield "newargs_ex", WithNewArgs()
    yield "list subclass", MyList([1, 2, 3])
    yield "dict subclass", MyDict(a=1, b=2)
    yield "os.system", Runs(os.system, "id")
    yield "builtins.eval", Runs(eval, "1+1")
    yield "builtins.exec", Runs(exec, "pass")
    yield "builtins.getattr", Runs(getattr, "text", "upper")
    yield "operator.attrgetter", Runs(operator.attrgetter("upper"), "text")
    yield "function ref", [os.system, eval, len]
    yield "system inside OrderedDict", collections.OrderedDict([("x", Runs(os.system, "id"))])
    yield "system after data", [list(range(5)), {"a": b"b"}, Runs(os.system, "ls")]


def dumps_variants(obj):
    for protocol in range(6):
        try:
            yield protocol, pickle.dumps(obj, protocol=protocol)
        except TypeError:  # __slots__ without __getstate__ below protocol 2
            pass
    # protocol 5 with out-of-band buffers: NEXT_BUFFER and READONLY_BUFFER
    buffers = [pickle.PickleBuffer(bytearray(b"abc")), pickle.PickleBuffer(b"ro")]
    yield "5-oob", pickle.dumps([obj, *buffers], protocol=5, buffer_callback=lambda _b: False)
    # the pure-Python pickler frames and memoizes a little differently
    yield "4-py", pickle._dumps(obj, protocol=4)


def main():
    sys.setrecursionlimit(10_000)
    for label, obj in objects():
        for variant, data in dumps_variants(obj):
            print(json.dumps({"label": f"python {label} p{variant}", "b": base64.b64encode(data).decode()}))


if __name__ == "__main__":
    main()
