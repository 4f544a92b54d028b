# Atoll Python executor: one long-lived process per code context, driven by the agent.
# Protocol: JSON lines. Commands arrive on fd 3, events leave on fd 4 (fds 1/2 carry only
# output written below Python, e.g. by subprocesses). Code runs in an IPython InteractiveShell,
# so rich reprs, display(), top-level await and matplotlib's inline backend behave as in Jupyter.
# SIGINT interrupts the running cell with KeyboardInterrupt and is ignored while idle.
import io
import json
import os
import signal
import sys
import time

T0 = time.monotonic()
CMD_FD, EV_FD = 3, 4
RUNNER_FILE = os.path.abspath(__file__)
os.set_inheritable(CMD_FD, False)
os.set_inheritable(EV_FD, False)

state = {"exec_id": None, "emitting": False, "pending_interrupt": False}


def emit(ev):
    """Writes one event line; a SIGINT arriving meanwhile is deferred so lines never tear."""
    __tracebackhide__ = True  # keep the runner's frames out of IPython tracebacks
    data = (json.dumps(ev, default=repr, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")
    state["emitting"] = True
    try:
        view = memoryview(data)
        while view:
            n = os.write(EV_FD, view)
            view = view[n:]
    finally:
        state["emitting"] = False
    if state["pending_interrupt"] and state["exec_id"] is not None:
        state["pending_interrupt"] = False
        raise KeyboardInterrupt


def on_sigint(_sig, _frame):
    __tracebackhide__ = True
    if state["exec_id"] is None:
        return  # idle: nothing to interrupt
    if state["emitting"]:
        state["pending_interrupt"] = True
        return
    raise KeyboardInterrupt


signal.signal(signal.SIGINT, on_sigint)


class EventStream(io.TextIOBase):
    """sys.stdout/sys.stderr replacement: every write becomes an event at once (streaming)."""

    def __init__(self, name, fd):
        self.name = name
        self._fd = fd

    def writable(self):
        return True

    def write(self, s):
        __tracebackhide__ = True
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        if s:
            emit({"ev": self.name, "id": state["exec_id"], "text": s})
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        return self._fd

    @property
    def encoding(self):
        return "utf-8"


sys.stdin = open(os.devnull, "r")
sys.stdout = EventStream("stdout", 1)
sys.stderr = EventStream("stderr", 2)


def install_matplotlib_hook():
    """Selects the inline backend when user code first imports matplotlib (unless MPLBACKEND is set),
    so plt.show() and figures left open at the end of a run become display results."""
    if os.environ.get("MPLBACKEND"):
        return
    import importlib.abc
    import importlib.util

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "matplotlib":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            real_exec = spec.loader.exec_module

            def exec_module(module):
                real_exec(module)
                module.rcParams["backend"] = "module://matplotlib_inline.backend_inline"

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Finder())


def make_shell():
    from traitlets.config import Config
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher

    def result_event(data, metadata, main):
        ev = {"ev": "result", "id": state["exec_id"], "data": data, "main": main}
        if metadata:
            ev["metadata"] = metadata
        emit(ev)

    class Hook(DisplayHook):
        """The last expression's value: one result with the full MIME bundle."""

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            result_event(format_dict, md_dict, True)

        def finish_displayhook(self):
            pass

    class Publisher(DisplayPublisher):
        """display(...) calls: results in call order."""

        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kw):
            result_event(data, metadata, False)

        def clear_output(self, wait=False):
            pass

    class Shell(InteractiveShell):
        displayhook_class = Hook
        display_pub_class = Publisher

        def _showtraceback(self, etype, evalue, stb):
            # Frames of this runner (the SIGINT handler, the stream objects) are noise to the user.
            stb = [s for s in (stb or []) if RUNNER_FILE not in s]
            emit({
                "ev": "error", "id": state["exec_id"],
                "ename": getattr(etype, "__name__", str(etype)),
                "evalue": str(evalue),
                "traceback": self.InteractiveTB.stb2text(stb).splitlines() if stb else [],
            })

    cfg = Config()
    cfg.HistoryManager.enabled = False
    cfg.InteractiveShell.colors = "NoColor"
    cfg.InteractiveShell.xmode = "Context"
    cfg.InlineBackend.figure_formats = {"png", "svg"}
    shell = Shell.instance(config=cfg)
    shell.display_page = True
    return shell


def run(shell, cmd):
    env_saved = {}
    for k, v in (cmd.get("env") or {}).items():
        env_saved[k] = os.environ.get(k)
        os.environ[k] = str(v)
    state["exec_id"] = cmd["id"]
    state["pending_interrupt"] = False
    try:
        shell.run_cell(cmd["code"], store_history=True)
    except KeyboardInterrupt:
        # Landed outside run_cell's own handler (e.g. in a post-execute hook).
        emit({"ev": "error", "id": cmd["id"], "ename": "KeyboardInterrupt", "evalue": "", "traceback": ["KeyboardInterrupt"]})
    except BaseException as e:  # SystemExit and friends must not end the context
        emit({"ev": "error", "id": cmd["id"], "ename": type(e).__name__, "evalue": str(e), "traceback": []})
    finally:
        done_id = state["exec_id"]
        state["exec_id"] = None
        for k, v in env_saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    emit({"ev": "done", "id": done_id, "count": shell.execution_count - 1})


def configure(cmd):
    if cmd.get("cwd"):
        os.chdir(cmd["cwd"])
        if sys.path and sys.path[0] != cmd["cwd"]:
            sys.path.insert(0, cmd["cwd"])
    for k, v in (cmd.get("env") or {}).items():
        os.environ[k] = str(v)
    emit({"ev": "configured"})


def main():
    os.environ.setdefault("IPYTHONDIR", "/tmp/.atoll-ipython")
    install_matplotlib_hook()
    shell = make_shell()
    emit({"ev": "ready", "pid": os.getpid(), "startup_ms": round((time.monotonic() - T0) * 1000, 1)})
    cmds = os.fdopen(CMD_FD, "rb", buffering=0)
    buf = b""
    while True:
        try:
            chunk = cmds.read(65536)
        except KeyboardInterrupt:
            continue
        if not chunk:
            return  # agent went away
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            cmd = json.loads(line)
            if cmd.get("op") == "exec":
                run(shell, cmd)
            elif cmd.get("op") == "configure":
                try:
                    configure(cmd)
                except OSError as e:
                    emit({"ev": "configured", "error": "%s: %s" % (type(e).__name__, e)})


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        # Start-up failures must reach the agent: fd 2, not the event stream.
        import traceback
        os.write(2, traceback.format_exc().encode("utf-8", "replace"))
        sys.exit(1)
