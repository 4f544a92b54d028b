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
import threading
import time

T0 = time.monotonic()
CMD_FD, EV_FD = 3, 4
RUNNER_FILE = os.path.abspath(__file__)
os.set_inheritable(CMD_FD, False)
os.set_inheritable(EV_FD, False)

state = {"exec_id": None, "emitting": False, "pending_interrupt": False}
write_lock = threading.RLock()
PARTIAL_FLUSH_S = 0.05  # a line without its newline yet is sent after this long


def write_event(ev):
    """Writes one event line. A SIGINT arriving while the main thread writes is deferred, so lines never tear."""
    __tracebackhide__ = True  # keep the runner's frames out of IPython tracebacks
    data = (json.dumps(ev, default=repr, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")
    main = threading.current_thread() is threading.main_thread()
    with write_lock:
        if main:
            state["emitting"] = True
        try:
            view = memoryview(data)
            while view:
                n = os.write(EV_FD, view)
                view = view[n:]
        finally:
            if main:
                state["emitting"] = False
    if main and state["pending_interrupt"] and state["exec_id"] is not None:
        state["pending_interrupt"] = False
        raise KeyboardInterrupt


def emit(ev):
    """Sends an event after any buffered partial line of another stream, keeping output in order."""
    __tracebackhide__ = True
    with write_lock:
        for st in STREAMS:
            if st.name != ev.get("ev"):
                st.send_partial()
        write_event(ev)


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
    """sys.stdout/sys.stderr replacement. Complete lines are sent at once (print's text and its
    newline become one event); a partial line is sent by the flusher thread after PARTIAL_FLUSH_S."""

    def __init__(self, name, fd):
        self.name = name
        self._fd = fd
        self._buf = ""

    def writable(self):
        return True

    def write(self, s):
        __tracebackhide__ = True
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        if not s:
            return 0
        with write_lock:
            self._buf += s
            cut = self._buf.rfind("\n") + 1
            if cut:
                text, self._buf = self._buf[:cut], self._buf[cut:]
                emit({"ev": self.name, "id": state["exec_id"], "text": text})
            if self._buf:
                flusher_wake.set()
        return len(s)

    def send_partial(self):
        with write_lock:
            if self._buf:
                text, self._buf = self._buf, ""
                write_event({"ev": self.name, "id": state["exec_id"], "text": text})

    def flush(self):
        self.send_partial()

    def isatty(self):
        return False

    def fileno(self):
        return self._fd

    @property
    def encoding(self):
        return "utf-8"


flusher_wake = threading.Event()


def flusher():
    while True:
        flusher_wake.wait()
        time.sleep(PARTIAL_FLUSH_S)
        flusher_wake.clear()
        for st in STREAMS:
            try:
                st.send_partial()
            except OSError:
                return


STREAMS = (EventStream("stdout", 1), EventStream("stderr", 2))
sys.stdin = open(os.devnull, "r")
sys.stdout, sys.stderr = STREAMS
threading.Thread(target=flusher, name="atoll-flusher", daemon=True).start()


def install_matplotlib_hook():
    """Selects the inline backend when user code first imports matplotlib (unless MPLBACKEND is set),
    so plt.show() and figures left open at the end of a run become display results."""
    if os.environ.get("MPLBACKEND"):
        return
    import importlib.util

    class Finder:  # a meta path finder (importlib.abc would cost ~50 ms of imports at start-up)
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


def lazy_ipython_package():
    """Imports IPython's core without running IPython/__init__.py, which pulls in the terminal UI
    (prompt_toolkit, ~0.4 s idle, ~1.8 s on a busy host). The package module is a stand-in that
    runs the real __init__ on first use of a top-level attribute (e.g. IPython.__version__)."""
    import importlib.util
    import types

    spec = importlib.util.find_spec("IPython")
    if spec is None or not spec.submodule_search_locations:
        return
    pkg = types.ModuleType("IPython")
    pkg.__path__ = list(spec.submodule_search_locations)
    pkg.__file__ = spec.origin
    pkg.__spec__ = spec
    pkg.__package__ = "IPython"
    lazy_names = ("__version__", "__author__", "__license__", "__all__", "__doc__")

    def load_all(name):
        if name.startswith("__") and name not in lazy_names:
            raise AttributeError(name)
        pkg.__dict__.pop("__getattr__", None)
        with open(spec.origin, "rb") as f:
            exec(compile(f.read(), spec.origin, "exec"), pkg.__dict__)
        return getattr(pkg, name)

    pkg.__getattr__ = load_all
    sys.modules["IPython"] = pkg
    from IPython.core.getipython import get_ipython

    pkg.get_ipython = get_ipython
    # Tab completion is never used here: keep IPython's completer from importing jedi (~65 ms).
    # The block is lifted right after, so user code can still import jedi.
    had_jedi = "jedi" in sys.modules
    if not had_jedi:
        sys.modules["jedi"] = None
    try:
        import IPython.core.completer  # noqa: F401
    finally:
        if not had_jedi:
            del sys.modules["jedi"]


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
        # `!cmd`: a plain subprocess on our fds 1/2 (the agent streams them); the default needs a pty.
        system = InteractiveShell.system_raw

        def ask_exit(self):
            # exit()/quit(): a context ends only when it is deleted.
            print("exit() does not end a code context; delete the context to end it", file=sys.stderr)

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
    add_chart_formatter(shell)
    return shell


CHART_MIME = "application/vnd.atoll.chart+json"
MAX_CHART_POINTS = 1000


def add_chart_formatter(shell):
    """Adds a MIME type carrying a matplotlib figure's data (Cloudflare's Result.chart); matplotlib
    is not imported until user code does."""
    from IPython.core.formatters import BaseFormatter
    from traitlets import ObjectName, Unicode

    class ChartFormatter(BaseFormatter):
        format_type = Unicode(CHART_MIME)
        _return_type = (dict,)
        print_method = ObjectName("_repr_atoll_chart_")

        def __call__(self, obj):
            # Matched by class name here: the inline backend drops every formatter's Figure entry.
            cls = type(obj)
            if cls.__name__ == "Figure" and cls.__module__ == "matplotlib.figure":
                return figure_chart(obj)
            return super().__call__(obj)

    fmt = shell.display_formatter
    chart = ChartFormatter(parent=fmt)
    fmt.formatters[CHART_MIME] = chart
    fmt.active_types = list(fmt.active_types) + [CHART_MIME]


def _num(v):
    try:
        f = float(v)
        return f if f == f and f not in (float("inf"), float("-inf")) else None
    except (TypeError, ValueError):
        return str(v)


def _label(v):
    """matplotlib's own placeholder labels start with "_" (e.g. "_child0"): no label."""
    v = str(v) if v is not None else ""
    return "" if v.startswith("_") else v


def _tick_text(text, x):
    """A categorical tick's text ("north"), else the numeric position."""
    if text:
        try:
            float(text.replace("\u2212", "-"))
        except ValueError:
            return text
    return _num(x)


def figure_chart(fig):
    """{type, title, library, data: {x_label, y_label, elements}} for a single-axes figure."""
    try:
        axes = fig.get_axes()
        if len(axes) != 1:
            return {"type": "unknown", "library": "matplotlib", "data": {"axes": len(axes)}}
        ax = axes[0]
        from matplotlib.collections import PathCollection
        from matplotlib.container import BarContainer
        from matplotlib.patches import Wedge

        data = {"x_label": ax.get_xlabel(), "y_label": ax.get_ylabel(), "elements": []}
        out = {"type": "unknown", "title": ax.get_title(), "library": "matplotlib", "data": data}
        bars = [c for c in ax.containers if isinstance(c, BarContainer)]
        wedges = [p for p in ax.patches if isinstance(p, Wedge)]
        scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
        lines = [l for l in ax.get_lines() if len(l.get_xdata())]
        if bars:
            out["type"] = "bar"
            ticks = {round(float(t), 6): lbl.get_text() for t, lbl in zip(ax.get_xticks(), ax.get_xticklabels())}
            for c in bars:
                for r in list(c.patches)[:MAX_CHART_POINTS]:
                    x = r.get_x() + r.get_width() / 2
                    data["elements"].append({"label": _tick_text(ticks.get(round(x, 6)), x), "group": _label(c.get_label()), "value": _num(r.get_height())})
        elif wedges:
            out["type"] = "pie"
            labels = [t.get_text() for t in ax.texts]
            for i, w in enumerate(wedges[:MAX_CHART_POINTS]):
                data["elements"].append({"label": _label(w.get_label()) or (labels[i] if i < len(labels) else str(i)), "angle": _num(w.theta2 - w.theta1)})
        elif scatters:
            out["type"] = "scatter"
            for c in scatters:
                pts = [[_num(x), _num(y)] for x, y in c.get_offsets()[:MAX_CHART_POINTS]]
                data["elements"].append({"label": _label(c.get_label()), "points": pts})
        elif lines:
            out["type"] = "line"
            for l in lines:
                pts = [[_num(x), _num(y)] for x, y in list(zip(l.get_xdata(), l.get_ydata()))[:MAX_CHART_POINTS]]
                data["elements"].append({"label": _label(l.get_label()), "points": pts})
        return out
    except Exception as e:  # a chart is a bonus: never break the figure's display
        return {"type": "unknown", "library": "matplotlib", "data": {"error": "%s: %s" % (type(e).__name__, e)}}


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
    lazy_ipython_package()
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
