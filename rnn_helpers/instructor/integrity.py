"""The grading guard: code in a submission cannot change the checks that grade it.

A submission runs in the same Python process as the tests that grade it, so an answer could
replace ``np.allclose``, ``numpy._core.numeric.isclose``, ``np.subtract``, ``builtins.isinstance``,
``rnn_helpers.grading.expect_close`` or the kernel's own message handling with something that
always passes, before the tests or while they call its functions. The guard is an audit hook
(``sys.addaudithook``) that the kernel's start-up code installs before ipykernel starts
(``sandbox.inside``). It keeps its snapshot and a key of the grader's in its closure and
answers the grader out of band, on a pipe, with verdicts signed with the key (HMAC-SHA256),
so that a kernel whose message handling was changed cannot forge them.

The grader (``autograding.ResilientExecute``) raises these audit events from hidden cells:

* ``rnn_course.snapshot`` before the notebook's first code cell: records the state below; from then on
  the routes to objects without a name (``gc.get_objects`` and friends,
  ``sys._current_frames``, reading the frame of a traceback that went through the guard),
  trace and profile functions (except the step counter of ``grading.count_python_steps``),
  new audit hooks, and assigning the code or defaults of a
  guarded function or the name, module or bases of a guarded class stop the kernel, with a
  signed verdict saying which (an exception would carry the guard's own frame to the
  submission); later snapshots are ignored;
* ``rnn_course.restore`` before each autograded test cell: puts back everything that changed
  since the snapshot and says what;
* ``rnn_course.test_end``, appended as the test cell's last line: counted only when raised by
  that cell's own top-level code, in the main thread, through the kernel's genuine execution
  path (the same chain of code objects as at the snapshot), so only if every statement
  before it ran without an exception;
* ``rnn_course.verify`` after the test cell: whether its end was reached, and what changed
  while it ran. ``rnn_helpers.grading.reference_disabled`` raises
  ``rnn_course.student_code_starts`` and ``rnn_course.student_code_returned`` around each
  call of the student's code, so a change made during the call is undone before the test's
  checks run, and counted against the test.

The state: the namespaces of numpy, the standard library, rnn_helpers, IPython, ipykernel and
the rest of the kernel's machinery (their functions, classes and modules, and ``sys.path``,
``meta_path``, ``path_hooks``, ``pycache_prefix``, ``modules``); the attributes of their
classes; the code, defaults (keyword-only defaults by content too) and closure cells of their
functions; the methods and hook lists of the kernel, the shell, its input and AST transformers
and its events; signal handlers and interval timers; the notebook's names that refer to those
modules and functions; threads running the notebook's code. The guard never runs code of the
submission (no comparison, hash or finalizer of its objects: what it replaces is kept, not
freed).

This is not a security boundary. Code that reads or writes the process's memory directly
(ctypes, which libraries such as threadpoolctl use after the snapshot too, or numpy's stride
tricks, which make an array over any address), or a signal handler of the submission's that
fires while the guard runs and reads the guard's frame, can still forge a pass. The sandbox
(``sandbox``) confines what such code can reach to the submission's own grade.
"""
import sys

#: Top-level packages whose namespaces are guarded (with the standard library's modules).
PROTECTED_ROOTS = ("numpy", "rnn_helpers", "IPython", "ipykernel", "jupyter_client", "jupyter_core", "zmq",
                   "traitlets", "comm", "tornado", "torch", "matplotlib_inline")
#: Events that stop the kernel once the snapshot is taken (see the module's docstring).
REFUSED = frozenset({"gc.get_referents", "gc.get_referrers", "gc.get_objects", "sys._current_frames",
                     "sys.settrace", "sys.setprofile", "sys.addaudithook"})
#: The nonce of the verdict the guard writes before it stops the kernel.
REFUSAL = "refused"
#: Exit status of a kernel the guard stopped.
EXIT_STATUS = 70
#: Names that IPython itself rebinds in guarded modules while it runs cells.
_CHURN = {"sys": frozenset({"last_type", "last_value", "last_traceback", "last_exc"})}
#: Data (not callables) watched in guarded modules.
_WATCHED_DATA = {"sys": frozenset({"modules", "path", "meta_path", "path_hooks", "path_importer_cache",
                                   "pycache_prefix", "dont_write_bytecode", "stdout", "stderr", "stdin",
                                   "displayhook", "excepthook", "audit"})}
#: Hook lists of the shell whose contents are watched.
_SHELL_HOOK_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")


def settle_libraries():
    """Let the guarded libraries make the changes they make to themselves on first use, so that
    they happen before the snapshot: PyTorch wraps an optimizer class's ``step`` (a profiling
    hook) the first time an optimizer of that class is built."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    for cls in vars(torch.optim).values():
        if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer):
            try:
                cls([torch.zeros(1, requires_grad=True)])
            except Exception:   # an optimizer that needs more arguments, or sparse parameters
                pass


def install(key, verdict_fd):
    """Install the guard in this process (once, before any notebook code runs)."""
    sys.addaudithook(_make_guard(bytes(key), verdict_fd))


def _make_guard(key, verdict_fd):
    """The audit hook. Everything it uses is captured here, so that later changes to modules
    (builtins included) never run inside it."""
    import _signal
    import _thread
    import dis
    import gc
    import hashlib
    import itertools
    import operator
    import os
    import types

    _type, _id, _len, _callable, _str, _bytes, _repr = type, id, len, callable, str, bytes, repr
    _isinstance, _getattr, _list, _dict, _tuple, _sorted, _set = isinstance, getattr, list, dict, tuple, sorted, set
    _issubclass = issubclass
    _zip, _all, _BaseException, _KeyboardInterrupt = zip, all, BaseException, KeyboardInterrupt
    _frozenset, _get_instructions, _get_referents = frozenset, dis.get_instructions, gc.get_referents
    # C-level iteration for the quick comparison of everything at once (no Python loop per object)
    _is, _chain, _proxy_keys, _proxy_values = (operator.is_, itertools.chain.from_iterable,
                                               types.MappingProxyType.keys, types.MappingProxyType.values)
    _code_of, _defaults_of, _kwdefaults_of, _contents_of = (operator.attrgetter(name) for name in (
        "__code__", "__defaults__", "__kwdefaults__", "cell_contents"))
    _OSError, _ValueError, _TypeError = OSError, ValueError, TypeError
    _refused, _roots, _churn, _watched_data = REFUSED, PROTECTED_ROOTS, _CHURN, _WATCHED_DATA
    _shell_hook_lists, _refusal, _exit_status = _SHELL_HOOK_LISTS, REFUSAL, EXIT_STATUS
    _getframe, _modules = sys._getframe, sys.modules
    _current_frames, _getswitch, _setswitch = sys._current_frames, sys.getswitchinterval, sys.setswitchinterval
    _gc_isenabled, _gc_enable, _gc_disable = gc.isenabled, gc.enable, gc.disable
    _stdlib = frozenset(getattr(sys, "stdlib_module_names", ()))
    _write, _exit = os.write, os._exit
    _sha256 = hashlib.sha256
    _get_ident, _main_ident = _thread.get_ident, _thread.get_ident()
    _getsignal, _setsignal, _getitimer, _setitimer = (_signal.getsignal, _signal.signal, _signal.getitimer,
                                                     _signal.setitimer)
    _signals = _tuple(_signal.valid_signals()) if hasattr(_signal, "valid_signals") else ()
    _timers = (_signal.ITIMER_REAL, _signal.ITIMER_VIRTUAL, _signal.ITIMER_PROF)
    _FunctionType, _ModuleType, _TracebackType = types.FunctionType, types.ModuleType, types.TracebackType
    _class_dict = type.__dict__["__dict__"].__get__          # the real namespace, whatever the metaclass says
    _set_class_attr, _del_class_attr = type.__setattr__, type.__delattr__
    _map, _immutable = map, 1 << 8                            # Py_TPFLAGS_IMMUTABLETYPE
    _own_globals = globals()
    _MethodType, _BuiltinMethodType = types.MethodType, types.BuiltinMethodType
    _missing = object()
    _ikey = _bytes(b ^ 0x36 for b in key.ljust(64, b"\0"))
    _okey = _bytes(b ^ 0x5C for b in key.ljust(64, b"\0"))
    del key
    try:
        os.set_blocking(verdict_fd, False)
    except _OSError:
        pass

    state = {"taken": False, "reached": None, "during_test": [], "calls": [], "test": None, "busy": None}
    snap = {}
    graveyard = []   # what the guard replaced, kept so that no finalizer of the submission runs inside it

    def filled(cell):
        try:
            cell.cell_contents
        except _ValueError:
            return False
        return True

    def same(a, b):
        """Identity, where a method bound anew to the same object and function counts as the same
        (the kernel binds input, excepthook and the streams' write again for every request)."""
        if a is b:
            return True
        kind = _type(a)
        if kind is not _type(b):
            return False
        if kind is _MethodType:
            return a.__self__ is b.__self__ and a.__func__ is b.__func__
        if kind is _BuiltinMethodType:
            return a.__self__ is b.__self__ and a.__name__ == b.__name__
        return False

    def answer(nonce, lines):
        """Write ``nonce payload mac`` on the verdict pipe (the grader checks the mac)."""
        if _type(nonce) is not _str or _len(nonce) > 100:
            return
        payload = "\n".join(lines).encode("utf-8", "backslashreplace").hex()
        data = (nonce + " " + payload).encode("ascii")
        mac = _sha256(_okey + _sha256(_ikey + data).digest()).hexdigest()
        try:
            _write(verdict_fd, (nonce + " " + payload + " " + mac + "\n").encode("ascii"))
        except _OSError:
            pass

    def show(name):
        if _type(name) is not _str:
            return "?"
        return name if name.replace(".", "_").isidentifier() else _repr(name)

    def protected(name):
        return _type(name) is _str and (name.split(".")[0] in _roots or name.split(".")[0] in _stdlib)

    def replace(table, key, value):
        """``table[key] = value`` (a missing ``value`` deletes), keeping what was there."""
        graveyard.append(table.get(key, None))
        if value is _missing:
            del table[key]
        else:
            table[key] = value

    # -- the snapshot ------------------------------------------------------------------------------

    def take_snapshot(caller):
        shell = None
        ipython = _modules.get("IPython")
        if ipython is not None:
            shell = ipython.get_ipython()
        modules, recorded = [], {}
        for name, module in _list(_modules.items()):
            if not protected(name) or _type(module) is not _ModuleType:
                continue
            namespace = module.__dict__
            modules.append((name, module, namespace, _dict(namespace)))
            for value in _list(namespace.values()):
                kind = _type(value)   # not isinstance, which reads __class__ (a deprecated name of torch warns)
                owner = _getattr(value, "__module__", None) if kind is _FunctionType or _issubclass(kind, _type) else None
                if not protected(owner):
                    continue
                recorded[_id(value)] = value
                if _isinstance(value, _type):
                    for member in _list(value.__dict__.values()):
                        member = _getattr(member, "__func__", member)
                        if _isinstance(member, _FunctionType):
                            recorded[_id(member)] = member
        classes = []
        for cls in recorded.values():
            if _isinstance(cls, _type) and not cls.__flags__ & _immutable:
                namespace = _class_dict(cls)
                classes.append((cls, _type(cls), f"{cls.__module__}.{cls.__qualname__}", fingerprint(namespace),
                                _dict(namespace)))
        functions = [(f, f.__code__, f.__defaults__, f.__kwdefaults__,
                      _tuple((cell, cell.cell_contents) for cell in (f.__closure__ or ()) if filled(cell)))
                     for f in recorded.values() if _type(f) is _FunctionType]
        lists = {"sys.path": sys.path, "sys.meta_path": sys.meta_path, "sys.path_hooks": sys.path_hooks,
                 "gc.callbacks": gc.callbacks}
        objects = []
        if shell is not None:
            for name in _shell_hook_lists:
                lists[f"shell.{name}"] = _getattr(shell, name)
            manager = shell.input_transformer_manager
            for name in ("cleanup_transforms", "line_transforms", "token_transformers"):
                lists[f"shell.input_transformer_manager.{name}"] = _getattr(manager, name)
            for event, callbacks in shell.events.callbacks.items():
                lists[f"shell.events[{event}]"] = callbacks
            kernel = _getattr(shell, "kernel", None)
            candidates = [("shell", shell), ("shell.compile", shell.compile), ("shell.displayhook", shell.displayhook),
                          ("shell.display_pub", shell.display_pub), ("shell.events", shell.events),
                          ("shell.input_transformer_manager", manager), ("shell.builtin_trap", shell.builtin_trap),
                          ("shell.display_trap", shell.display_trap)]
            if kernel is not None:
                candidates += [("kernel", kernel), ("kernel.session", kernel.session),
                               ("kernel.iopub_socket", kernel.iopub_socket),
                               ("kernel.iopub_thread", _getattr(kernel, "iopub_thread", None))]
                lists["kernel.shell_handlers"] = kernel.shell_handlers
                lists["kernel.control_handlers"] = kernel.control_handlers
            for label, obj in candidates:
                if obj is None:
                    continue
                namespace = _getattr(obj, "__dict__", None)
                traits = _getattr(obj, "_trait_values", None)
                tables = [(t, {k: v for k, v in t.items() if _type(k) is _str and _callable(v)})
                          for t in (namespace, traits) if _type(t) is _dict]
                objects.append((label, obj, _type(obj), tables))
            snap["user_ns"] = shell.user_ns
            snap["run_code"] = _getattr(type(shell).run_code, "__code__", None)
        class_list = _tuple(c[0] for c in classes)
        proxies = _list(_map(_class_dict, class_list))
        function_list = _tuple(f[0] for f in functions)
        cell_list = _tuple(cell for f in functions for cell, _ in f[4])
        snap["quick"] = dict(
            classes=class_list, metas=_tuple(c[1] for c in classes), sizes=_tuple(_map(_len, proxies)),
            keys=_tuple(_chain(_map(_proxy_keys, proxies))), values=_tuple(_chain(_map(_proxy_values, proxies))),
            functions=function_list, referents=_tuple(_get_referents(*function_list)),
            codes=_tuple(f[1] for f in functions), defaults=_tuple(f[2] for f in functions),
            kwdefaults=_tuple(f[3] for f in functions), cells=cell_list,
            keyword_saved=_tuple((f[0], f[3], _tuple(f[3].items())) for f in functions if _type(f[3]) is _dict),
            contents=_tuple(contents for f in functions for _, contents in f[4]))
        contents = {label: (container, _list(container.items()) if _type(container) is _dict else _list(container))
                    for label, container in lists.items() if _type(container) in (_list, _dict)}
        grading = _modules.get("rnn_helpers.grading")
        wrapped = _getattr(_getattr(grading, "reference_disabled", None), "__wrapped__", None)
        counter = _getattr(_getattr(grading, "count_python_steps", None), "__code__", None)
        tracer = [c for c in _getattr(counter, "co_consts", ()) if _type(c) is _type(counter) and c.co_name == "traced"]
        # the lines of its own two sys.settrace calls (the call of the code under test is on another)
        tracer_lines = _frozenset(i.positions.lineno for i in _get_instructions(tracer[0])
                                  if i.argval == "settrace") if tracer else _frozenset()
        snap.update(modules=modules, recorded=recorded, classes=classes, functions=functions, contents=contents,
                    objects=objects,
                    module_ids={_id(m): m for _, m, _, _ in modules},
                    signals={s: _getsignal(s) for s in _signals}, threads=_set(_current_frames()),
                    chain=chain_of(caller), swapper=_getattr(wrapped, "__code__", None),
                    tracer=tracer[0] if tracer else None, tracer_lines=tracer_lines)
        state["taken"] = True

    def fingerprint(namespace):
        """The identities of a namespace's keys and values (compared without running any __eq__)."""
        return _tuple(_map(_id, namespace)), _tuple(_map(_id, namespace.values()))

    def chain_of(frame):
        """Code objects of the frames below ``frame``, down to the kernel's execute_request."""
        codes = []
        frame = frame.f_back
        while frame is not None:
            code = frame.f_code
            codes.append(code)
            if _type(code.co_name) is _str and code.co_name == "execute_request":
                break
            frame = frame.f_back
        return _tuple(codes)

    # -- comparing and putting back ---------------------------------------------------------------

    def check(repair, around_a_call=False):
        """What differs from the snapshot (descriptions); with ``repair``, put it back. Signals
        first, so that no handler of the submission's runs while the rest is put back. Around a
        call of the student's code (``around_a_call``) the code and defaults of the guarded
        functions are not read (each read is an audit event, thousands per check): assigning
        them is refused anyway, and the checks before and after the test cell read them."""
        changes = []
        for which in _timers:
            try:
                if _getitimer(which) != (0.0, 0.0):
                    changes.append("an interval timer")
                    if repair:
                        _setitimer(which, 0.0)
            except (_OSError, _ValueError):
                pass
        for signum, handler in snap["signals"].items():
            try:
                current = _getsignal(signum)
                if not same(current, handler):
                    changes.append(f"the handler of signal {signum}")
                    if repair:
                        graveyard.append(current)
                        _setsignal(signum, handler)
            except (_OSError, _ValueError, _TypeError):
                pass
        for ident, frame in _list(_current_frames().items()):
            if ident in snap["threads"] or ident == _main_ident:
                continue
            while frame is not None:
                filename = frame.f_code.co_filename
                if _type(filename) is not _str or filename.startswith(snap["cell_dir"]) or filename == "<string>":
                    changes.append("a thread running the notebook's code")
                    break
                frame = frame.f_back
        for name, module, namespace, saved in snap["modules"]:
            if _modules.get(name) is not module:
                changes.append(f"sys.modules[{name!r}]")
                if repair:
                    replace(_modules, name, module)
            if _type(module) is not _ModuleType:
                changes.append(f"the class of module {name}")
                continue
            if _len(namespace) == _len(saved) and _all(_map(_is, namespace, saved)) and \
                    _all(_map(_is, namespace.values(), saved.values())):
                continue   # the same keys and values, in the same order
            check_table(name, namespace, saved, repair, changes, _churn.get(name, ()), _watched_data.get(name, ()))
        quick = snap["quick"]
        for cls, meta, label, print_, saved in (() if classes_unchanged(quick) else snap["classes"]):
            if _type(cls) is not meta:
                changes.append(f"the metaclass of {label}")
                continue
            namespace = _class_dict(cls)
            if fingerprint(namespace) == print_:
                continue
            for key, value in _list(namespace.items()):
                old = saved.get(key, _missing) if _type(key) is _str else _missing
                if not same(old, value):
                    changes.append(f"{label}.{show(key)}")
                    if repair:
                        graveyard.append(value)
                        if old is _missing:
                            _del_class_attr(cls, key)
                        else:
                            _set_class_attr(cls, key, old)
            for key, old in saved.items():
                if _len(namespace) < _len(saved) and key not in namespace:
                    changes.append(f"{label}.{show(key)} (deleted)")
                    if repair:
                        _set_class_attr(cls, key, old)
        for f, code, defaults, kwdefaults, cells in (() if functions_unchanged(quick, around_a_call)
                                                     else snap["functions"]):
            if f.__code__ is not code or f.__defaults__ is not defaults or f.__kwdefaults__ is not kwdefaults:
                changes.append(f"the code of {show(f.__module__)}.{show(f.__qualname__)}")
                if repair:
                    graveyard.append((f.__code__, f.__defaults__, f.__kwdefaults__))
                    f.__code__, f.__defaults__, f.__kwdefaults__ = code, defaults, kwdefaults
            for cell, contents in cells:
                if not filled(cell) or cell.cell_contents is not contents:
                    changes.append(f"a closure cell of {show(f.__module__)}.{show(f.__qualname__)}")
                    if repair:
                        graveyard.append(cell.cell_contents if filled(cell) else None)
                        cell.cell_contents = contents
        for f, table, saved in (() if keyword_defaults_unchanged(quick) else quick["keyword_saved"]):
            if not same_items(table, saved):
                changes.append(f"the keyword defaults of {show(f.__module__)}.{show(f.__qualname__)}")
                if repair:
                    graveyard.append(_list(table.items()))
                    table.clear()
                    table.update(saved)
        for label, (container, saved) in snap["contents"].items():
            now = _list(container.items()) if _type(container) is _dict else _list(container)
            if _len(now) != _len(saved) or not _all(same(a, b) or (_type(a) is _tuple and _type(b) is _tuple
                                                                   and a[0] is b[0] and same(a[1], b[1]))
                                                                   for a, b in _zip(now, saved)):
                changes.append(label)
                if repair:
                    graveyard.append(now)
                    if _type(container) is _dict:
                        container.clear()
                        container.update(saved)
                    else:
                        container[:] = saved
        for label, obj, kind, tables in snap["objects"]:
            if _type(obj) is not kind:
                changes.append(f"the class of {label}")
                continue
            for table, saved in tables:
                check_table(label, table, saved, repair, changes, (), (), added_callables_only=True)
        return changes

    def classes_unchanged(quick):
        """True if every guarded class has its metaclass and the same keys and values in its
        namespace, in the same order: compared by identity, all at once."""
        if not _all(_map(_is, _map(_type, quick["classes"]), quick["metas"])):
            return False
        proxies = _list(_map(_class_dict, quick["classes"]))
        return (_tuple(_map(_len, proxies)) == quick["sizes"]
                and _all(_map(_is, _chain(_map(_proxy_keys, proxies)), quick["keys"]))
                and _all(_map(_is, _chain(_map(_proxy_values, proxies)), quick["values"])))

    def same_items(table, saved):
        """Does the dict ``table`` hold the (key, value) pairs ``saved``, by identity, in order?"""
        return _len(table) == _len(saved) and _all(_map(_is, _chain(table.items()), _chain(saved)))

    def keyword_defaults_unchanged(quick):
        """True if no dict of keyword-only defaults (``__kwdefaults__``, which can be changed in
        place) of a guarded function was changed."""
        return _all(same_items(table, saved) for _, table, saved in quick["keyword_saved"])

    def functions_unchanged(quick, cells_only):
        """True if every guarded function has its closure contents (and, unless ``cells_only``,
        its code and defaults). The code and defaults are first compared all at once among
        everything the functions refer to (one read, where reading ``__code__`` and the defaults
        of each function is an audit event each); only if anything a function refers to
        changed, one by one. Reading a function's ``__dict__`` or ``__annotations__`` (inspect,
        functools.wraps) creates it, so what a function refers to can change without its code:
        once the code and defaults are found to be the snapshot's, what the functions refer to
        now is what the next check compares with."""
        functions = quick["functions"]
        try:
            if not _all(_map(_is, _map(_contents_of, quick["cells"]), quick["contents"])):
                return False
        except _ValueError:   # a closure cell emptied
            return False
        if cells_only:
            return True
        referents = _get_referents(*functions)
        if _len(referents) == _len(quick["referents"]) and _all(_map(_is, referents, quick["referents"])):
            return True
        if not (_all(_map(_is, _map(_code_of, functions), quick["codes"]))
                and _all(_map(_is, _map(_defaults_of, functions), quick["defaults"]))
                and _all(_map(_is, _map(_kwdefaults_of, functions), quick["kwdefaults"]))):
            return False
        quick["referents"] = _tuple(referents)
        return True

    def check_table(label, table, saved, repair, changes, churn, watched, added_callables_only=False):
        """Compare a namespace (a dict) with its saved copy, by identity; only its string keys
        are ever hashed or compared (a key of another type makes the guard rebuild the dict)."""
        for key in table:
            if _type(key) is not _str:
                changes.append(f"{label} (a key that is not a string)")
                if repair:
                    graveyard.append(_list(table.items()))
                    table.clear()
                    table.update(saved)
                return
        matched = 0
        for key, value in _list(table.items()):
            old = saved.get(key, _missing)
            matched += old is not _missing
            if key in churn or same(old, value):
                continue
            if old is _missing:
                if _type(value) is _ModuleType and not added_callables_only:
                    continue
                if _callable(value) or key == "__builtins__":
                    changes.append(f"{label}.{show(key)} (added)")
                    if repair:
                        replace(table, key, _missing)
            elif added_callables_only or _callable(old) or _type(old) is _ModuleType or key in watched \
                    or key == "__builtins__":
                changes.append(f"{label}.{show(key)}")
                if repair:
                    replace(table, key, old)
        if matched < _len(saved):
            for key, old in saved.items():
                if key not in table and key not in churn:
                    changes.append(f"{label}.{show(key)} (deleted)")
                    if repair:
                        table[key] = old

    def bindings():
        """Names of the notebook bound to guarded modules and functions."""
        found = {}
        user_ns = snap.get("user_ns")
        if _type(user_ns) is not _dict:
            return found
        recorded, modules = snap["recorded"], snap["module_ids"]
        for key, value in _list(user_ns.items()):
            if _type(key) is _str and (modules.get(_id(value), _missing) is value
                                       or recorded.get(_id(value), _missing) is value):
                found[key] = value
        return found

    def check_bindings(saved, repair):
        changes = []
        user_ns = snap.get("user_ns")
        if _type(user_ns) is not _dict:
            return changes
        for key in user_ns:
            if _type(key) is not _str:
                changes.append("the notebook's names (a key that is not a string)")
                if repair:
                    items = _list(user_ns.items())
                    graveyard.append(items)
                    user_ns.clear()
                    user_ns.update({k: v for k, v in items if _type(k) is _str})
                    user_ns.update(saved)
                return changes
        for key, value in saved.items():
            if not same(user_ns.get(key, _missing), value):
                changes.append(f"the notebook's name {show(key)}")
                if repair:
                    replace(user_ns, key, value)
        return changes

    def genuine_end(caller):
        """Was test_end raised by the test cell's own top-level code, on the kernel's normal path?"""
        code = caller.f_code
        if _get_ident() != _main_ident or _type(code.co_name) is not _str or code.co_name != "<module>":
            return False
        if _type(code.co_filename) is not _str or not code.co_filename.startswith(snap["cell_dir"]):
            return False
        chain, expected = chain_of(caller), snap["chain"]
        return (snap.get("run_code") is not None and _len(chain) == _len(expected) and _len(chain) > 0
                and chain[0] is snap["run_code"] and _all(a is b for a, b in _zip(chain, expected)))

    # -- the hook ----------------------------------------------------------------------------------

    def guard(event, args):
        if _type(event) is not _str or state["busy"] == _get_ident():
            return
        if event == "object.__getattr__":
            # Reading a traceback's frame: refused if it is one of the guard's own (an exception
            # that went through the guard must not hand its frame, and so its key, to anyone).
            refused = _len(args) >= 2 and _type(args[0]) is _TracebackType and args[1] == "tb_frame"
        else:
            refused = state["taken"] and (event in _refused or (
                (event == "object.__setattr__" or event == "object.__delattr__") and _len(args) >= 2
                and snap["recorded"].get(_id(args[0]), _missing) is args[0]))
            if not refused and not event.startswith("rnn_course."):
                return
        interval, collecting = _getswitch(), _gc_isenabled()
        state["busy"] = _get_ident()
        try:
            _setswitch(1000.0)   # no thread switch while the guard works
            _gc_disable()        # no collection, so no finalizer of the submission, while it works
            if refused:
                if event == "object.__getattr__":
                    if args[0].tb_frame.f_globals is not _own_globals:
                        return
                elif event != "object.__delattr__" and event.startswith("object.") and \
                        _getframe(1).f_code is snap["swapper"]:
                    return   # reference_disabled swapping the reference functions' code
                elif event == "sys.settrace" and snap["tracer"] is not None and \
                        _getframe(1).f_code is snap["tracer"] and _getframe(1).f_lineno in snap["tracer_lines"]:
                    return   # grading.count_python_steps setting and removing its step counter
                what = args[1] if event.startswith("object.") and _type(args[1]) is _str else ""
                answer(_refusal, [_refusal, event + (f" ({show(what)})" if what else "")])
                _exit(_exit_status)
            handle(event, args)
        except _KeyboardInterrupt:
            pass   # an interrupt that lands in the guard is dropped: the grader interrupts again
        except _BaseException:
            answer(_refusal, [_refusal, "the grading guard failed"])
            _exit(_exit_status)
        finally:
            if collecting:
                _gc_enable()
            _setswitch(interval)
            state["busy"] = None

    def handle(event, args):
        nonce = args[0] if _len(args) >= 1 and _type(args[0]) is _str else None
        if event == "rnn_course.snapshot":
            if not state["taken"]:
                caller = _getframe(2)
                cell_file = caller.f_code.co_filename
                snap["cell_dir"] = cell_file.rsplit("/", 1)[0] + "/" if "/" in cell_file else cell_file
                take_snapshot(caller)
                answer(nonce, ["snapshot"])
            return
        if not state["taken"]:
            return
        if event == "rnn_course.restore":
            changes = check(repair=True)
            state.update(reached=None, during_test=[], calls=[],
                         test=args[1] if _len(args) >= 2 and _type(args[1]) is _str else None)
            snap["bindings"] = bindings()
            answer(nonce, ["restored", *changes])
        elif event == "rnn_course.student_code_starts":
            state["calls"].append(bindings())
            state["during_test"] += check(repair=True, around_a_call=True)
        elif event == "rnn_course.student_code_returned":
            saved = state["calls"].pop() if state["calls"] else {}
            state["during_test"] += check(repair=True, around_a_call=True) + check_bindings(saved, repair=True)
        elif event == "rnn_course.test_end":
            if nonce is not None and nonce == state["test"] and genuine_end(_getframe(2)):
                state["during_test"] += check(repair=False) + check_bindings(snap.get("bindings", {}), repair=False)
                state["reached"] = nonce
        elif event == "rnn_course.verify":
            test = args[1] if _len(args) >= 2 and _type(args[1]) is _str else None
            reached = test is not None and state["reached"] == test
            changes = state["during_test"] + check(repair=True)
            answer(nonce, ["reached" if reached else "not reached",
                           *_sorted(_set(c for c in changes if _type(c) is _str))])

    return guard


def verdict(line, key, nonce):
    """The lines of a verdict the guard wrote for ``nonce``, or None if ``line`` is not a genuine
    one (another nonce, or a signature that does not match ``key``)."""
    import hashlib
    import hmac

    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != nonce:
        return None
    expected = hmac.new(key, f"{parts[0]} {parts[1]}".encode("ascii", "replace"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts[2]):
        return None
    try:
        return bytes.fromhex(parts[1]).decode("utf-8", "replace").split("\n")
    except ValueError:
        return None
