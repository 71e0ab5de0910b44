"""Bounded parsing of documents that come from outside (clones, notes, remotes).

Every YAML or JSON document gitml reads from a file, a note, a tag message or
a remote goes through this module, so one hostile document cannot exhaust
memory, time or the stack of everybody who pulls it:

* **Size**: the caller names a byte cap; a bigger document is refused unread.
* **YAML**: composed with a safe loader (no Python objects), then checked
  *before* anything is built: at most :data:`MAX_DEPTH` levels and at most
  :data:`MAX_NODES` nodes / :data:`MAX_TEXT` characters of scalars *counted
  with every alias expanded* (a 368-byte "billion laughs" file expands to
  billions of nodes; it is refused after visiting each distinct node once).
  A recursive alias (``&a [*a]``) is refused too.
* **JSON**: nesting deeper than :data:`JSON_MAX_DEPTH` is refused by a scan
  that runs before the (recursive) decoder, so ``[[[[...`` x 100,000 is an
  error, never a ``RecursionError``.
* **Errors** name the source and the limit (and the line for YAML); they never
  include the document. Names quoted in messages go through :func:`quote`.

Foundation module: imports nothing from gitml but :mod:`gitml.errors`;
PyYAML is imported only when YAML is parsed.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from gitml.errors import ConfigError

MAX_DEPTH = 64  # YAML nesting levels (gitml.yaml, DVC files, params)
MAX_NODES = 200_000  # YAML nodes with aliases expanded
MAX_TEXT = 64 << 20  # characters of YAML scalars with aliases expanded
# Deeper than MAX_DEPTH: a note embeds params/metrics (read with MAX_DEPTH)
# a few levels down, and must still be readable.
JSON_MAX_DEPTH = 100
MAX_QUOTE = 80  # characters of a name quoted in an error message


def quote(text: object, limit: int = MAX_QUOTE) -> str:
    """``repr`` of a name for an error message, cut to about ``limit`` characters.

    Numbers, booleans and None are shown (cut too: an int may have 4,000
    digits); any other value is described by its kind, never printed: an
    untrusted document's list or mapping must not end up in a message.
    """
    if text is None or isinstance(text, bool | int | float):
        shown = repr(text) if not isinstance(text, int) or abs(text) < 10**limit else ""
        return shown if shown and len(shown) <= limit else "<a very long number>"
    if not isinstance(text, str):
        return f"<{describe(text)}>"
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def describe(value: object) -> str:
    """What kind of value this is, for "must be X, not Y" messages."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def read_capped(path: Path, *, source: str, max_bytes: int) -> bytes:
    """A regular file's bytes, refusing more than ``max_bytes`` (FileNotFoundError passes).

    A final symlink is refused, not followed: a cloned repository's
    ``params.yaml -> ~/.config/gh/hosts.yml`` would otherwise put a token into
    gitml.lock or a note. A FIFO, device or folder is refused rather than read
    (a FIFO would block).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(
                f"{source}: is a symbolic link; gitml reads it only as a file"
            ) from None
        raise ConfigError(f"{source}: cannot read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{source}: not a regular file")
        data = fh.read(max_bytes + 1)
    check_size(data, source=source, max_bytes=max_bytes)
    return data


def check_size(data: str | bytes, *, source: str, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise ConfigError(f"{source}: larger than {_size(max_bytes)}; refused unread")


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB" if n >= 1 << 10 else f"{n} B"


def _text(data: str | bytes, source: str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not valid UTF-8 (byte {exc.start})") from None


# ---------------------------------------------------------------- JSON

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = str.maketrans({"[": "\x02", "{": "\x02", "]": "\x00", "}": "\x00"})


def _deepest(text: str) -> int:
    """The deepest running sum of ``[``/``{`` (+1) and ``]``/``}`` (-1) in ``text``, in C."""
    brackets = _NOT_BRACKET.sub("", text).translate(_STEP)
    if not brackets:
        return 0
    steps = map(int.__sub__, brackets.encode("ascii"), itertools.repeat(1))
    return max(0, max(itertools.accumulate(steps)))


def json_too_deep(text: str, max_depth: int) -> bool:
    """Whether ``text``'s arrays/objects nest deeper than ``max_depth`` (exact for valid JSON).

    Runs before the recursive decoder. Counting every bracket, strings included,
    gives an upper bound (0.35 s for 80 MiB); only when that bound is over the
    limit are strings cut out (slower) for the exact depth, as a ``[`` inside a
    string is no nesting.
    """
    if _deepest(text) <= max_depth:
        return False
    return _deepest(_JSON_STRING.sub("", text)) > max_depth


def load_json(
    data: str | bytes,
    *,
    source: str,
    max_bytes: int,
    max_depth: int = JSON_MAX_DEPTH,
    first: bool = False,
) -> Any:
    """Decode one JSON document from outside, bounded in size and depth.

    ``first``: decode the first document and ignore what follows (notes that
    git concatenated on a rewrite). Raises :class:`ConfigError` naming
    ``source`` and what is wrong (never the document).
    """
    check_size(data, source=source, max_bytes=max_bytes)
    text = _text(data, source)
    if json_too_deep(text, max_depth):
        raise ConfigError(f"{source}: JSON nested deeper than {max_depth} levels")
    try:
        if first:
            return json.JSONDecoder().raw_decode(text.lstrip())[0]
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # belt and braces: the scan bounds depth
        raise ConfigError(f"{source}: not valid JSON ({type(exc).__name__})") from None


# ---------------------------------------------------------------- YAML


def read_structured(path: Path, *, source: str, max_bytes: int) -> Any:
    """A JSON (``.json``) or YAML file (params, metrics), bounded; ConfigError if bad.

    FileNotFoundError passes through; messages name ``source`` and what is
    wrong, never the content.
    """
    data = read_capped(path, source=source, max_bytes=max_bytes)
    return parse_structured(data, source=source, max_bytes=max_bytes, json_=path.suffix == ".json")


def parse_structured(
    data: str | bytes, *, source: str, max_bytes: int, json_: bool | None = None
) -> Any:
    """JSON or YAML bytes (a file, a blob at a commit), bounded; ConfigError if bad.

    ``json_``: JSON if true, YAML if false, by ``source``'s ``.json`` suffix if None.
    """
    if json_ is None:
        json_ = source.endswith(".json")
    if json_:
        return load_json(data, source=source, max_bytes=max_bytes)
    return load_yaml(data, source=source, max_bytes=max_bytes)


def load_yaml(
    data: str | bytes,
    *,
    source: str,
    max_bytes: int,
    loader: type[Any] | None = None,
) -> Any:
    """Parse one YAML document from outside into plain Python values, bounded.

    ``loader``: a PyYAML *safe* loader class (default the C SafeLoader); its
    resolvers decide the scalar types (see :mod:`gitml.interop.yaml12`).
    An empty document is None. Problems are :class:`ConfigError`.
    """
    import yaml

    check_size(data, source=source, max_bytes=max_bytes)
    cls: Any = loader or getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    instance = cls(_text(data, source))
    try:
        root = _compose(instance, source)
        if root is None:
            return None
        try:
            return instance.construct_document(root)
        except yaml.MarkedYAMLError as exc:
            raise _marked_error(exc, source) from None
        except Exception as exc:  # constructors raise ValueError, TypeError, ...
            # e.g. `2020-13-45` resolves to a timestamp and fails in datetime().
            raise ConfigError(f"{source}: invalid YAML value ({type(exc).__name__})") from None
    finally:
        instance.dispose()


def compose_yaml(text: str | bytes, *, source: str, max_bytes: int) -> Any:
    """The checked node graph of one YAML document (None if empty), safe loader.

    For callers that build their own values from nodes (line numbers:
    :mod:`gitml.project.yamlnodes`).
    """
    import yaml

    check_size(text, source=source, max_bytes=max_bytes)
    instance = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(_text(text, source))
    try:
        return _compose(instance, source)
    finally:
        instance.dispose()


def _compose(instance: Any, source: str) -> Any:
    import yaml

    try:
        root = instance.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(exc, source) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise ConfigError(f"{source}: invalid YAML ({type(exc).__name__})") from None
    if root is not None:
        _Budget(source).visit(root, 0)
    return root


def _marked_error(exc: Any, source: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = exc.problem or exc.context or "invalid YAML"
    return ConfigError(f"{source}{line}: invalid YAML: {problem}")


class _Budget:
    """Sizes a node graph as if every alias were expanded, in O(distinct nodes).

    Each distinct node's expanded size (nodes, characters, height) is computed
    once (memo by identity), so the walk is bounded by the composed graph while
    the sizes it adds up are those of the document a consumer would build.
    Keys count as nodes too.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.sizes: dict[int, tuple[int, int, int]] = {}  # id -> (nodes, characters, height)
        self.open: set[int] = set()

    def fail(self, node: Any, message: str) -> ConfigError:
        return ConfigError(f"{self.source}:{node.start_mark.line + 1}: {message}")

    def visit(self, node: Any, depth: int) -> tuple[int, int, int]:
        import yaml

        key = id(node)
        size = self.sizes.get(key)
        if size is None:
            if isinstance(node, yaml.ScalarNode):
                size = (1, len(node.value), 0)
            else:
                size = self.container(node, depth)
            self.sizes[key] = size
        if depth + size[2] > MAX_DEPTH:  # an alias of a deep node, used deep down
            raise self.fail(node, f"nested deeper than {MAX_DEPTH} levels")
        return size

    def container(self, node: Any, depth: int) -> tuple[int, int, int]:
        import yaml

        key = id(node)
        if key in self.open:
            raise self.fail(node, "an alias refers to a node that contains it")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nested deeper than {MAX_DEPTH} levels")
        self.open.add(key)
        nodes, chars, height = 1, 0, 0
        children: list[Any] = (
            list(node.value)
            if isinstance(node, yaml.SequenceNode)
            else [part for pair in node.value for part in pair]
        )
        for child in children:
            n, c, h = self.visit(child, depth + 1)
            nodes, chars, height = nodes + n, chars + c, max(height, h + 1)
            if nodes > MAX_NODES:
                raise self.fail(
                    node, f"document too large (over {MAX_NODES:,} nodes with aliases expanded)"
                )
            if chars > MAX_TEXT:
                raise self.fail(
                    node, f"document too large (over {_size(MAX_TEXT)} of text, aliases expanded)"
                )
        self.open.discard(key)
        return nodes, chars, height
