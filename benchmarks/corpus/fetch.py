"""Extract every labelled repository, at its labelled commit, into benchmarks/corpus/.repos/.

    .venv/bin/python benchmarks/corpus/fetch.py                       # git clone from GitHub
    .venv/bin/python benchmarks/corpus/fetch.py --mirror /work/.mirror  # local git snapshots
    .venv/bin/python benchmarks/corpus/fetch.py --repo owner/name --force

Sources, in order: a local git directory under --mirror DIR (DIR/<owner>+<name>/repo,
DIR/<owner>+<name>, DIR/<owner>__<name>, DIR/<owner>__<name>.git, or the .git of one of
them: the first git dir holding the commit), else a partial clone from GitHub
(`git clone --filter=blob:none`).
The whole tree is extracted (`git archive <commit> | tar -x`): the scanner follows imports
and reads config files next to the code. Each tree is then made a git work tree whose index
holds every extracted file (`git init` + `git add -A -f`), as the user's clone would be: the
scanner asks git which files are tracked (a committed `.env.production` that `.gitignore`
names is still shipped and still scanned) and takes the tree's root as the project's root.
Only labels are committed; .repos/ is git-ignored. A tree already extracted at the same
commit is kept (a `.corpus-commit` stamp says which), and indexed if it is not yet.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from labelset import RepoLabels, add_corpus_options, corpus_for_cli, tree_problems

STAMP = ".corpus-commit"


def _git(*args: str, git_dir: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    prefix = ["git"] if git_dir is None else ["git", f"--git-dir={git_dir}"]
    return subprocess.run([*prefix, *args], capture_output=True, check=False)


def _has_commit(git_dir: Path, commit: str) -> bool:
    return _git("cat-file", "-e", f"{commit}^{{commit}}", git_dir=git_dir).returncode == 0


def mirror_git_dir(mirror: Path, entry: RepoLabels, *, require_commit: bool = True) -> Path | None:
    """The local git directory for entry under mirror that holds its commit, if any."""
    owner, name = entry.repo.split("/")
    bases = (
        mirror / f"{owner}+{name}" / "repo",
        mirror / f"{owner}+{name}",
        mirror / f"{owner}__{name}",
    )
    for candidate in (*bases, mirror / f"{owner}__{name}.git", *(b / ".git" for b in bases)):
        if not candidate.is_dir():
            continue
        if _git("rev-parse", "--git-dir", git_dir=candidate).returncode != 0:
            continue
        if not require_commit or _has_commit(candidate, entry.commit):
            return candidate
    return None


def _archive_into(git_dir: Path, commit: str, dest: Path) -> None:
    """`git archive commit | tar -x -C dest`, both argv lists, no shell."""
    dest.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", f"--git-dir={git_dir}", "archive", "--format=tar", commit],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    tar = subprocess.run(
        ["tar", "-x", "--no-same-owner", "-C", str(dest)],
        stdin=archive.stdout,
        capture_output=True,
        check=False,
    )
    assert archive.stdout is not None
    archive.stdout.close()
    archive_err = archive.stderr.read() if archive.stderr else b""
    if archive.wait() != 0 or tar.returncode != 0:
        why = (archive_err or tar.stderr).decode(errors="replace").strip().splitlines()
        raise RuntimeError(f"git archive {commit[:12]} failed: {why[-1] if why else 'no message'}")


def _blobs_into(git_dir: Path, commit: str, dest: Path) -> int:
    """Write every regular file of commit that the git dir holds; returns how many are absent.

    Snapshots may lack their largest blobs (models, images), which makes `git archive` fail;
    those files are never the ones labelled, so they are skipped and counted.
    """
    listing = _git("ls-tree", "-r", "-z", "--full-tree", commit, git_dir=git_dir)
    if listing.returncode != 0:
        raise RuntimeError(f"git ls-tree {commit[:12]} failed")
    entries: list[tuple[bytes, str]] = []
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode in (b"100644", b"100755"):  # no symlinks, no submodules
            entries.append((sha, raw_path.decode("utf-8", errors="surrogateescape")))
    batch = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
        input=b"".join(sha + b"\n" for sha, _ in entries),
        capture_output=True,
        check=False,
    )
    out, pos, absent = batch.stdout, 0, 0
    root = dest.resolve()
    for _, path in entries:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        pos = header_end + 1
        if header[-1] == b"missing":
            absent += 1
            continue
        size = int(header[2])
        target = (dest / path).resolve()
        if root not in target.parents:  # a hostile path must not leave the tree
            raise RuntimeError(f"path {path!r} leaves the extraction directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(out[pos : pos + size])
        pos += size + 1
    return absent


def _extract_commit(git_dir: Path, commit: str, dest: Path) -> str:
    try:
        _archive_into(git_dir, commit, dest)
        return ""
    except RuntimeError:
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        absent = _blobs_into(git_dir, commit, dest)
        return f" ({absent} files absent from the snapshot, skipped)" if absent else ""


def _clone(entry: RepoLabels, workdir: Path) -> Path:
    """A blob-less clone from GitHub, fetched at the commit; returns its git dir."""
    url = f"https://github.com/{entry.repo}.git"
    target = workdir / "clone.git"
    done = _git("clone", "--bare", "--filter=blob:none", "--quiet", url, str(target))
    if done.returncode != 0:
        raise RuntimeError(
            f"git clone {url} failed: {done.stderr.decode(errors='replace').strip()}"
        )
    if not _has_commit(target, entry.commit):
        _git("fetch", "--quiet", "--filter=blob:none", "origin", entry.commit, git_dir=target)
    if not _has_commit(target, entry.commit):
        raise RuntimeError(f"{entry.repo} has no commit {entry.commit} on GitHub (force-pushed?)")
    return target


def _index_as_checkout(dest: Path) -> None:
    """Make dest a git work tree whose index lists every file extracted (not the stamp):
    what `git ls-files --cached` says in the user's clone. Hooks never run for `add`; the
    repository's own config is never read (a fresh .git), fsmonitor is off."""
    options = ["-c", "core.fsmonitor=false", "-c", "core.autocrlf=false", "-C", str(dest)]
    for args in (["init", "-q"], ["add", "-A", "-f", "--", ".", f":!{STAMP}"]):
        done = subprocess.run(["git", *options, *args], capture_output=True, check=False)
        if done.returncode != 0:
            why = done.stderr.decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"git {args[0]} in {dest} failed: {why[-1] if why else '?'}")


def extract(entry: RepoLabels, repos_dir: Path, mirror: Path | None, *, force: bool) -> str:
    """Extract one repository; returns how it was obtained."""
    dest = repos_dir / entry.slug
    stamp = dest / STAMP
    if not force and stamp.is_file() and stamp.read_text().strip() == entry.commit:
        if (dest / ".git").is_dir():
            return "kept"
        _index_as_checkout(dest)
        return "kept, indexed as a checkout"
    if dest.exists():
        shutil.rmtree(dest)
    git_dir = mirror_git_dir(mirror, entry) if mirror is not None else None
    if git_dir is not None:
        how = f"mirror {git_dir}" + _extract_commit(git_dir, entry.commit, dest)
    else:
        with tempfile.TemporaryDirectory(prefix="corpus-clone-") as tmp:
            how = "github" + _extract_commit(_clone(entry, Path(tmp)), entry.commit, dest)
    _index_as_checkout(dest)
    stamp.write_text(entry.commit + "\n")
    return how


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", type=Path, help="directory of local git snapshots to use first")
    add_corpus_options(parser, repos_help="where to extract")
    parser.add_argument("--force", action="store_true", help="extract again even if present")
    args = parser.parse_args(argv)
    corpus = corpus_for_cli("fetch", args)
    if corpus is None:
        return 2
    failed = 0
    for entry in corpus:
        try:
            how = extract(entry, args.repos_dir, args.mirror, force=args.force)
        except (RuntimeError, OSError) as exc:
            failed += 1
            print(f"{entry.repo}: not extracted: {exc}", file=sys.stderr)
            continue
        print(f"{entry.repo} @ {entry.commit[:12]}: {how}")
        for problem in tree_problems(entry, args.repos_dir / entry.slug):
            failed += 1  # a label that does not fit its tree would read as a scanner miss
            print(f"fetch: error: {problem}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
