"""CPython's C unpickler as the oracle for aisc's model of it (scripts/fuzz-pickle.js asks it).

usage: python3 pickle-oracle.py ALLOWLIST.json < streams.jsonl > verdicts.jsonl

ALLOWLIST.json is a JSON list of allowed imports, each `module.name`. Each input line is
{"b": base64 bytes, "e": "ASCII"|"utf-8"|"latin1"|"bytes", "p": persistent_load or not}; an empty
line flushes the output. Each output line is {"imports": [[module, name], ...], "outcome":
"unsafe"|"ok"|"stopped"|"timeout", "error": exception type, "message": str(exception), "seconds":
the time it took, when over SLOW}, in order.

Nothing a stream names is imported or called: find_class records the name and hands back a
stand-in (allowed) or raises (unsafe, where code would run). The stand-in is as permissive as
CPython allows, so that the walk goes on wherever a real allowed import could let it go on.
"""

import base64
import io
import json
import pickle
import resource
import signal
import sys
import time
import warnings

import _pickle
import copyreg

# No opcode loops, so nothing a stream does runs long but a big memo: `r` with index i makes
# _pickle.c allocate and zero 16*i bytes. aisc's model takes indices below 2**26 (1 GiB) to
# succeed and assumes above: in 1.5 GiB of address space the first do and most others fail fast.
ADDRESS_SPACE = 3 << 29
SECONDS_PER_STREAM = 30
SLOW = 0.5


class Refused(Exception):
    """find_class was asked for a name outside the allowlist: code would run here."""


class Timeout(BaseException):
    """One stream took longer than SECONDS_PER_STREAM (BaseException: no `except Exception` eats it)."""


def _ignore(*_args, **_kwargs):
    return None


class StandInMeta(type):
    """What an allowed global is: SETITEM(S) on it, calls of it and BUILD on it all succeed."""

    def __setitem__(cls, key, value):
        pass


class StandIn(tuple, metaclass=StandInMeta):
    """An allowed global (the class) or what calling one makes (an instance: an empty tuple, so
    REDUCE takes it as an argument tuple, and hashable whatever it was made from)."""

    def __new__(cls, *_args, **_kwargs):
        return tuple.__new__(cls, ())

    def __init__(self, *_args, **_kwargs):
        pass

    def __call__(self, *_args, **_kwargs):
        return StandIn()

    # staticmethods, so that they work looked up on the class (BUILD, APPENDS on a global) as on an instance
    __setstate__ = staticmethod(_ignore)
    __setitem__ = staticmethod(_ignore)
    append = staticmethod(_ignore)
    extend = staticmethod(_ignore)
    add = staticmethod(_ignore)


def import_name(module, name):
    """aisc's toImportName: a dotted attribute path is `module:path` and never allowed."""
    return f"{module}:{name}" if "." in name else f"{module}.{name}"


def make_unpicklers(allowed):
    class Recording(pickle.Unpickler):
        def __init__(self, file, encoding, imports):
            super().__init__(file, encoding=encoding)
            self.imports = imports

        def find_class(self, module, name):
            self.imports.append([module, name])
            if import_name(module, name) in allowed:
                return StandIn
            raise Refused()

    class RecordingWithPersistent(Recording):
        def persistent_load(self, pid):
            return StandIn()

    return Recording, RecordingWithPersistent


def on_alarm(_signum, _frame):
    raise Timeout()


def judge(unpicklers, request):
    data = base64.b64decode(request["b"])
    imports = []
    unpickler = unpicklers[bool(request["p"])](io.BytesIO(data), request["e"], imports)
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_STREAM)
        try:
            unpickler.load()
            verdict = {"outcome": "ok"}
        except Refused:
            verdict = {"outcome": "unsafe"}
        except Exception as error:  # what stops the unpickler, RecursionError and MemoryError included
            verdict = {"outcome": "stopped", "error": type(error).__name__, "message": str(error)[:200]}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except Timeout:
        verdict = {"outcome": "timeout"}
    del unpickler
    verdict["imports"] = imports
    seconds = time.monotonic() - started
    if seconds > SLOW:
        verdict["seconds"] = round(seconds, 2)
    return verdict


def main():
    assert pickle.Unpickler is _pickle.Unpickler, "the C unpickler is the one judged"
    assert not copyreg._inverted_registry, "EXT1/2/4 must find an empty extension registry"
    with open(sys.argv[1], encoding="utf-8") as f:
        allowed = frozenset(json.load(f))
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    signal.signal(signal.SIGALRM, on_alarm)
    # a STRING's invalid escape warns, and a READONLY_BUFFER view can outlive its bytearray: neither
    # changes what load() does, and on stderr they would drown the oracle's own errors
    warnings.simplefilter("ignore")
    sys.unraisablehook = lambda _unraisable: None
    unpicklers = make_unpicklers(allowed)
    out = sys.stdout
    for line in sys.stdin.buffer:
        if line.strip():
            out.write(json.dumps(judge(unpicklers, json.loads(line)), ensure_ascii=True) + "\n")
        else:
            out.flush()
    out.flush()


if __name__ == "__main__":
    main()
