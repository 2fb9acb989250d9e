"""Writing a run's outputs safely: never over an input, all of them or none, never a torn file.

Two promises, kept apart:

* :func:`check_targets`, before anything is read: no output may resolve (symlinks and hard links
  followed) to a file the run reads (claims, records, policies, suppressions, the file compared
  against, the config), lie inside an input folder where it would clobber a file or be read as
  claims by the next run, or be named by two options.
* :class:`OutputSet`: each output is written to a temporary file beside its target; only when every
  output is complete are they renamed into place (``os.replace``: atomic on one file system, so a
  reader or a concurrent run sees the old file or the new one, never a mix). A failure part-way
  (full disk, a renderer error, Ctrl-C) removes the temporary files and leaves every existing
  target untouched. Standard output and special files (``/dev/null``, a FIFO) cannot be renamed
  onto: their bytes are spooled and copied out first, and the files renamed into place only when
  that has worked (a full disk behind ``--json - > file`` replaces nothing).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from scrubber.errors import ScrubError, UsageError

STDOUT = "-"


def _resolved(path: str) -> Path:
    return Path(os.path.realpath(os.path.expanduser(path)))


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)  # hard links, bind mounts
    except OSError:
        return False


def check_targets(outputs: dict[str, str], reads: dict[str, list[str]], input_folders: list[str],
                  claim_suffixes: set[str]) -> None:
    """Raise :class:`UsageError` for an output that would overwrite something the run reads, or another output.

    ``outputs``: option -> path (``-`` is standard output and is skipped). ``reads``: what the run
    reads, by what it is ("input", "records file", ...). ``input_folders``: folder inputs; an output
    inside one may not replace an existing file there, nor add a claim-like file (``claim_suffixes``)
    the next run of that folder would read as claims.
    """
    seen: dict[Path, str] = {}
    folders = [_resolved(f) for f in input_folders]
    read = [(kind, p, _resolved(p)) for kind, paths in reads.items() for p in paths if p != STDOUT]
    for option, path in outputs.items():
        if path == STDOUT:
            continue
        target = _resolved(path)
        try:
            is_dir = target.is_dir()
        except OSError as exc:  # (a name too long for the file system: probe 21B, "unexpected OSError")
            raise UsageError(f"{option} {path}: cannot write output ({exc.strerror})") from None
        if is_dir or path.endswith(("/", os.sep)):  # ("out/" names a folder even before it exists)
            raise UsageError(f"{option} {path} is a folder; name a file")
        for kind, shown, resolved in read:
            if _same_file(target, resolved):
                via = "" if Path(os.path.abspath(path)) == resolved else f" (it resolves to {resolved})"
                raise UsageError(f"{option} {path} would overwrite the {kind} {shown}{via}; write it elsewhere")
        for other_target, other in seen.items():
            if _same_file(target, other_target):
                raise UsageError(f"{option} and {other} both write {path}; give each output its own file")
        for folder in folders:
            # Any file: a new one would be found by the next run of the folder (and refused then, as
            # one that exists: the same command worked once, then failed), or read as claims.
            if target.is_relative_to(folder):
                what = ("would overwrite a file in" if target.exists() else "would be read as claims from"
                        if target.suffix.lower() in claim_suffixes else "would be written into")
                raise UsageError(f"{option} {path} {what} the input folder {folder}; write it outside that folder")
        seen[target] = option


def _beside_letters(outputs: dict[str, str], reads: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(what it is, path) of every file the run reads and every output but the letters (standard output
    left out): what a letter file may neither be nor replace."""
    return [(kind, p) for kind, p in [*((kind, p) for kind, paths in reads.items() for p in paths),
                                      *((option, p) for option, p in outputs.items() if option != "--letters")]
            if p != STDOUT]


def check_letters_folder(folder: str, pattern: str, outputs: dict[str, str], reads: dict[str, list[str]]) -> None:
    """Raise :class:`UsageError` for a file the run reads or writes that lies in the letters ``folder``
    under a letter's name (``pattern``, ``appeal-*.html``): a letter would replace it, or the removal of
    an earlier run's letters after the run would delete it (an input named appeal-x.html was deleted,
    and so was the run's own --html report). Checked before anything is read."""
    root = _resolved(folder)
    # (the letters' folder named as another output's file: the folder was made, then the report could
    # not be written over it, and the next run's --html found a folder; probe 28C D7)
    for option, path in outputs.items():
        if option != "--letters" and path != STDOUT and _same_file(_resolved(path), root):
            raise UsageError(f"{option} and --letters both write {path} (a file and a folder of letters); give "
                             "each output its own path")
    for kind, path in _beside_letters(outputs, reads):
        where = {(_resolved(str(Path(path).parent)), Path(path).name), (_resolved(path).parent, _resolved(path).name)}
        if any(parent == root and fnmatch.fnmatchcase(name, pattern) for parent, name in where):
            raise UsageError(f"--letters {folder} holds the {kind} {path} under a letter's file name ({pattern}): "
                             "a letter would replace it, or the removal of earlier letters delete it; rename it "
                             "or write the letters elsewhere")


def check_letter_target(path: str, outputs: dict[str, str], reads: dict[str, list[str]]) -> None:
    """Raise :class:`UsageError` when the letter file ``path`` resolves (a symlink or hard link planted
    under a letter's name) to a file the run reads or another output: letter names are known only
    once the findings are, so this runs as each letter is written, before any output is committed."""
    target = _resolved(path)
    for kind, other in _beside_letters(outputs, reads):
        if _same_file(target, _resolved(other)):
            raise UsageError(f"--letters would write {path}, which resolves to the {kind} {other}; remove that link "
                             "or write the letters elsewhere")
    if Path(path).is_symlink():
        # (a letter is this tool's own file: a link under its name would have the letter written through
        # it into whatever file it names; probe 16E)
        raise UsageError(f"--letters would write {path}, which is a symbolic link to {_resolved(path)}; letters are "
                         "written as files of their own: remove that link or write the letters elsewhere")


@dataclass
class _Pending:
    shown: str  # the path as the user wrote it, for messages
    target: Path | None  # None: standard output
    temp: Path | None = None  # beside the target (regular files)
    spool: BinaryIO | None = None  # standard output and special files


@dataclass
class OutputSet:
    """The outputs of one run, committed together. Use as a context manager around the writes."""

    pending: list[_Pending] = field(default_factory=list)
    committed: bool = False

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None and not self.committed:
            self.commit()
        elif not self.committed:
            self.abort()

    @contextlib.contextmanager
    def open(self, path: str) -> Iterator[BinaryIO]:
        """A binary stream for ``path``'s new content; nothing is visible at ``path`` until :meth:`commit`."""
        if path == STDOUT:
            entry = _Pending(path, None, spool=tempfile.TemporaryFile())
            self.pending.append(entry)
            yield entry.spool  # type: ignore[misc]
            return
        try:
            target = _resolved(path)
            if not target.exists() and _special(Path(path)):  # /dev/stdout: a link to a pipe with no path of its own
                target = Path(path)
            is_dir = target.is_dir()
        except OSError as exc:  # (a name too long for the file system: probe 21B, "unexpected OSError")
            raise ScrubError(f"cannot write output ({exc.strerror}); nothing was written", path) from None
        if is_dir:  # (a letter named like a folder the user made): before anything is written
            raise ScrubError("cannot write output: it is a folder; nothing was written", path)
        try:
            special = _special(target)
            if special:  # /dev/null, a FIFO: renaming onto it would replace the device itself
                entry = _Pending(path, target, spool=tempfile.TemporaryFile())
                self.pending.append(entry)
                yield entry.spool  # type: ignore[misc]
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            entry = _Pending(path, target)
            self.pending.append(entry)
            fd = _create_temp(entry)
        except OSError as exc:
            blocked = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
            if blocked is not None:  # mkdir said "File exists" of a path whose folder is a file
                raise ScrubError(f"cannot write output: {blocked} is a file, not a folder; nothing was written",
                                 path) from None
            raise ScrubError(f"cannot write output ({exc.strerror})", path) from None
        try:
            with os.fdopen(fd, "wb") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())  # the bytes are on disk before the rename makes them the file
        except OSError as exc:
            raise ScrubError(f"cannot write output ({exc.strerror})", path) from None

    def commit(self) -> None:
        """Write the held-back outputs (devices, then standard output), then rename every temporary
        file into place.

        All or none: two outputs naming one file (a letter named like the report), or a target that
        has become a folder, stop the run before anything is written; so does a device or standard
        output that cannot be written (``--json - > /dev/full``, ``--csv /dev/full``), since those
        cannot be taken back and the files are renamed only after them. A rename that fails part-way
        puts back the files already replaced (each is kept beside its target until every rename has
        succeeded) and removes the ones created. An interrupt (Ctrl-C) anywhere in here does the same
        before it goes on: no temporary file is left and every target is as it was.

        A reader of standard output that leaves early (``--json - | head``) is no failure of the run:
        the files are still put in place, then the :class:`BrokenPipeError` goes on to the caller."""
        try:
            renamed = [e for e in self.pending if e.temp is not None and e.target is not None]
            _refuse_clashes(renamed)
            reader_left = self._write_held_back()
            self._rename(renamed)
        except BaseException:
            self.abort()
            raise
        self.committed = True
        self.abort()  # (every temporary file is in place by now: this only closes the spools)
        if reader_left is not None:
            raise reader_left

    def _write_held_back(self) -> BrokenPipeError | None:
        """Copy the spooled outputs out, devices first and standard output last; a failure is a
        :class:`ScrubError` (nothing renamed yet). Returns the broken pipe of a reader that left."""
        for entry in sorted(self.pending, key=lambda e: e.target is None):
            if entry.spool is None:
                continue
            entry.spool.seek(0)
            if entry.target is not None:
                try:
                    with entry.target.open("wb") as out:
                        shutil.copyfileobj(entry.spool, out)
                except OSError as exc:
                    raise ScrubError(f"cannot write output ({exc.strerror}); no file was replaced",
                                     entry.shown) from None
                continue
            out = getattr(sys.stdout, "buffer", None)
            if out is None or out.closed:  # `scrub ... --json - >&-`
                raise ScrubError("standard output is closed; no file was replaced")
            try:
                shutil.copyfileobj(entry.spool, out)
                out.flush()
            except BrokenPipeError as exc:
                return exc
            except OSError as exc:  # `--json - > /dev/full`
                raise ScrubError(f"cannot write to standard output ({exc.strerror}); no file was replaced") \
                    from None
        return None

    @staticmethod
    def _rename(renamed: list[_Pending]) -> None:
        """Rename each temporary file onto its target, keeping the replaced file aside until all are
        in place; on a failure or an interrupt before then, put back what was replaced and remove
        what was created (one after all are in place only finishes removing the kept files).

        Each step is recorded before it is taken and undone by what is on disk (is the temporary
        file still there?), so an interrupt between any two steps finds everything it has to undo."""
        done: list[tuple[_Pending, Path | None]] = []  # (entry, where the file it replaces is kept)
        entry: _Pending | None = None
        placed = False
        try:
            for entry in renamed:
                assert entry.temp is not None and entry.target is not None
                os.chmod(entry.temp, _mode_for(entry.target))
                kept = None
                if entry.target.exists():
                    kept = entry.target.with_name(f".{entry.target.name}.{secrets.token_hex(8)}.old")
                done.append((entry, kept))
                if kept is not None:
                    os.replace(entry.target, kept)
                os.replace(entry.temp, entry.target)
            placed = True
            _remove_kept(done)
        except BaseException as exc:
            if placed:
                _remove_kept(done)
            else:
                for item, kept in reversed(done):
                    assert item.temp is not None and item.target is not None
                    with contextlib.suppress(OSError):  # (a step not taken: nothing to undo)
                        if kept is not None:  # the old file back, over the new one if it is in place
                            os.replace(kept, item.target)
                        elif not item.temp.exists():  # a new file in place: taken away
                            item.target.unlink()
                if isinstance(exc, OSError) and entry is not None:
                    raise ScrubError(f"cannot write output ({exc.strerror})", entry.shown) from None
            raise
        finally:
            if placed:
                for item, _ in done:
                    item.temp = None

    def abort(self) -> None:
        """Remove every temporary file; existing targets were never touched."""
        for entry in self.pending:
            if entry.temp is not None:
                with contextlib.suppress(OSError):
                    entry.temp.unlink()
                entry.temp = None
            if entry.spool is not None:
                entry.spool.close()
        self.pending.clear()


def _create_temp(entry: _Pending) -> int:
    """Create the temporary file beside ``entry.target`` (as ``mkstemp`` does: a new name, mode 0600)
    and return its descriptor. Its name is in ``entry`` before it exists, so that an interrupt at
    any point (936 letters give Ctrl-C many chances) leaves nothing that :meth:`OutputSet.abort`
    does not know to remove."""
    assert entry.target is not None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        entry.temp = entry.target.with_name(f".{entry.target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(entry.temp, flags, 0o600)
        except OSError as exc:  # not made, or someone else's file (not ours to remove): forget the name
            entry.temp = None
            if not isinstance(exc, FileExistsError):
                raise


def _refuse_clashes(renamed: list[_Pending]) -> None:
    """:class:`ScrubError` for two outputs naming one file (a path, or a hard link of another) or a
    target that has become a folder. Linear in the outputs (936 letters): each target's path and
    file identity are looked up, not compared with every other target."""
    by_path: dict[Path, str] = {}
    by_file: dict[tuple[int, int], str] = {}
    for entry in renamed:
        assert entry.target is not None
        try:
            st = os.stat(entry.target)
        except OSError:
            st = None
        identity = (st.st_dev, st.st_ino) if st is not None else None
        other = by_path.get(entry.target) or (by_file.get(identity) if identity is not None else None)
        if other is not None or (st is not None and stat.S_ISDIR(st.st_mode)):
            why = "two outputs would write it (give each its own file)" if other is not None else "it is a folder"
            raise ScrubError(f"cannot write output: {why}; nothing was written", entry.shown)
        by_path[entry.target] = entry.shown
        if identity is not None:
            by_file[identity] = entry.shown


def _remove_kept(done: list[tuple[_Pending, Path | None]]) -> None:
    """Remove the replaced files kept aside (every new file is in place)."""
    for _, kept in done:
        if kept is not None:
            with contextlib.suppress(OSError):
                kept.unlink()


@contextlib.contextmanager
def polars_writes() -> Iterator[None]:
    """Around Polars writing to an output stream itself (``write_csv(out)``, ``sink_csv(out)``).

    Polars reports a failed write as ``OSError('File too large (os error 27)')``, without the error
    number; it is raised again as Python's own ``OSError(27, 'File too large')``, so a full disk or a
    file size limit reads the same ("cannot write output (File too large)") whoever wrote the bytes.
    """
    try:
        yield
    except OSError as exc:
        found = re.search(r"\(os error (\d+)\)", str(exc)) if exc.errno is None else None
        if found is None:
            raise
        code = int(found.group(1))
        raise OSError(code, os.strerror(code)) from None


def _mode_for(target: Path) -> int:
    """The permissions a plain ``open(target, "w")`` would give: the old file's, else 0666 less the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _special(path: Path) -> bool:
    """``path`` exists and is no regular file (/dev/null, a FIFO, /dev/stdout): written through, not
    replaced by a rename."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
