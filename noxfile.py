"""Developer sessions: `nox -l` lists them, `nox -s NAME` runs one.

Every environment installs through constraints.txt, which pins torch==2.13.0 (on this
project's machines pip finds that CPU build on disk; an unpinned torch pulls a
multi-gigabyte CUDA build). The package's own metadata never pins torch.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "typecheck", "tests", "minimal", "conformance"]

CONSTRAINTS = ("-c", "constraints.txt")

# Backend sessions: the extras to install and the columns of the backend fixture.
BACKEND_SESSIONS = {
    "numpy": ("numpy", ["numpy"]),
    "torch": ("torch", ["torch"]),
    "jax": ("jax", ["jax", "jax-jit"]),
    "dask": ("dask", ["dask"]),
    "strict": ("numpy", ["array-api-strict"]),
}


def install(session: nox.Session, *extras: str) -> None:
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install(*CONSTRAINTS, "-e", spec)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite on every CPU backend (the README's second command)."""
    install(session, "cpu", "test")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def minimal(session: nox.Session) -> None:
    """Only arrayloss and array-api-strict: import works and the losses run."""
    install(session)
    session.install(*CONSTRAINTS, "pytest", "array-api-strict")
    session.run("python", "-m", "pytest", "tests/test_minimal.py", *session.posargs)


def _backend_session(name: str, extra: str, columns: list[str]) -> None:
    @nox.session(name=name)
    def run(session: nox.Session) -> None:
        # torch is the reference of every expected value, so it is always installed.
        install(session, "test", "torch", extra)
        args = [f"--backend={c}" for c in columns]
        session.run("python", "-m", "pytest", *args, *session.posargs)

    run.__doc__ = f"The backend-parametrized tests on {', '.join(columns)} only."


for _name, (_extra, _columns) in BACKEND_SESSIONS.items():
    _backend_session(_name, _extra, _columns)


@nox.session
def conformance(session: nox.Session) -> None:
    """The conformance report against PyTorch (the README's first command)."""
    install(session, "conformance")
    session.run("python", "-m", "conformance", *session.posargs)


@nox.session
def mindspore(session: nox.Session) -> None:
    """arrayloss.mindspore against MindSpore 2.10.0 itself (docs/migration/from-mindspore.md).

    Not a default session: it installs MindSpore (a large wheel; not in any extra). One
    resolve with numpy<2, which MindSpore 2.10.0 needs (with NumPy 2 it imports and then
    fails inside its operators); pip picks the JAX that supports it. Runs the front-end's
    tests, then prints the matrix cell x backend of ``python -m conformance.mindspore``.
    """
    session.install(*CONSTRAINTS, "-e", ".[cpu,test]", "mindspore==2.10.0", "numpy<2")
    tests = ["tests/test_frontend_mindspore.py", "tests/test_frontend_mindspore_offline.py"]
    session.run("python", "-m", "pytest", *tests, *session.posargs)
    session.run("python", "-m", "conformance.mindspore")


@nox.session(name="conformance_report")
def conformance_report(session: nox.Session) -> None:
    """The full conformance run, then its matrix and heatmap into docs/conformance.md
    (and docs/images/conformance-heatmap.png). Not a default session: it rewrites docs."""
    install(session, "conformance")
    report = "conformance-report"
    command = ["python", "-m", "conformance", "--jobs", "2", "--report", report]
    command += session.posargs
    session.run(*command)
    session.run("python", "-m", "conformance.update_docs", report, "--command", " ".join(command))


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark suite against torch.nn.functional, optax and NumPy (docs/performance.md).

    Writes benchmarks/results/ (results.json, results.md, plots/). Arguments after `--`
    pass through, e.g. `nox -s bench -- --quick` or `nox -s bench -- --loss cross_entropy`.
    """
    install(session, "cpu")
    session.install(*CONSTRAINTS, "optax", "matplotlib")
    session.run("python", "-m", "benchmarks.suite", *session.posargs)


@nox.session(name="bench_quick")
def bench_quick(session: nox.Session) -> None:
    """The benchmark suite's quick profile (small sizes, few rounds; under two minutes)."""
    install(session, "cpu")
    session.install(*CONSTRAINTS, "optax", "matplotlib")
    session.run("python", "-m", "benchmarks.suite", "--quick", *session.posargs)


@nox.session(name="bench_out_of_core")
def bench_out_of_core(session: nox.Session) -> None:
    """Losses over Dask arrays larger than a memory budget (docs/scaling-out.md).

    Default: 4e9 float32 elements per input against a 2 GiB budget (minutes). Arguments
    after `--` pass through, e.g. `nox -s bench_out_of_core -- --quick` or `-- --elements 1e8`.
    """
    install(session, "dask")
    session.run("python", "-m", "benchmarks.out_of_core", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site: strict build into build/site, then the browser check.

    `nox -s docs -- --no-browser` builds only; the browser check (docs/_scripts/check_site.py)
    needs Debian's chromium (`apt-get install chromium`) and saves screenshots under
    build/site-check/.
    """
    install(session, "docs")
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    session.run("mkdocs", "build", "--strict", "--site-dir", "build/site")
    if "--no-browser" not in session.posargs:
        session.run("python", "docs/_scripts/check_site.py")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    install(session)
    session.install("mypy")
    session.run("mypy")
