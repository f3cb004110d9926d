"""Path templating: concrete request paths become templates such as /users/{userId}.

A ``PathTree`` has one node per template segment. A segment becomes a
parameter in two ways:

* by shape, on first sight: integers, UUIDs, hex ids and ObjectIds, dates,
  emails, JWTs, base64 and mixed letter-and-digit tokens;
* by cardinality. A node with more than ``MAX_WORD_SIBLINGS`` distinct
  literal children that are not dictionary words, or with a parameter child
  that has more hits than that, folds its non-dictionary children into the
  parameter. Past ``MAX_LITERAL_SIBLINGS`` distinct word values (folded ones
  included) every literal child folds, except busy dictionary words with
  ``STICKY_FACTOR`` times the hits of a typical value.

Version segments (v1, v2beta1) never fold, and dictionary words (me, search)
fold only past ``MAX_LITERAL_SIBLINGS``, so constant siblings such as
/users/me stay literal next to /users/{userId}. A fold merges the subtrees, adding their
counts, so the tree is revised as traffic arrives and no hit is lost.
Parameter names come from the nearest literal word before the parameter:
/users/{userId}, /reports/{reportDate}.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from stockade.protection.discovery.shapes import (
    IDENTIFIER_SHAPES,
    SegmentShape,
    is_dictionary_word,
    segment_shape,
    singular,
    word_parts,
)

MAX_WORD_SIBLINGS = 8
"""Distinct non-dictionary literals under one node before they become a parameter."""

MAX_LITERAL_SIBLINGS = 48
"""Distinct literals of any kind under one node before all but the busy ones fold."""

STICKY_FACTOR = 4
"""A dictionary word with this many times the median sibling's hits stays literal in a full fold."""

MIN_STICKY_HITS = 8
"""Fewer hits never keep a literal apart in a full fold, however quiet its siblings are."""

MAX_WORD_SAMPLES = 2 * MAX_LITERAL_SIBLINGS
"""Distinct word values a parameter node remembers, enough to pass the full-fold limit."""

MAX_SEGMENTS = 32
"""Path segments learned; deeper paths are not templated (see ``PathTooDeep``)."""

MAX_NODES = 20_000
"""Nodes of one service's tree; past it new segments go to the parameter child."""

_WORD_SHAPES = (SegmentShape.WORD, SegmentShape.OTHER, SegmentShape.EMPTY)

FOLD_WORDS = 1  # non-dictionary literal children fold into the parameter
FOLD_ALL = 2  # every literal child folds, except versions and busy ones


class PathTooDeep(ValueError):
    """The path has more than ``MAX_SEGMENTS`` segments."""


@dataclass(slots=True)
class PathNode:
    hits: int = 0
    literals: dict[str, PathNode] = field(default_factory=dict)
    param: PathNode | None = None
    shapes: dict[str, int] = field(default_factory=dict)  # shapes folded into a parameter node
    fold: int = 0
    words: set[str] = field(default_factory=set)  # distinct word values in a parameter node

    def count_nodes(self) -> int:
        total = 1 + sum(child.count_nodes() for child in self.literals.values())
        return total + (self.param.count_nodes() if self.param else 0)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"hits": self.hits}
        if self.literals:
            data["literals"] = {name: child.to_dict() for name, child in self.literals.items()}
        if self.param is not None:
            data["param"] = self.param.to_dict()
        if self.shapes:
            data["shapes"] = dict(self.shapes)
        if self.fold:
            data["fold"] = self.fold
        if self.words:
            data["words"] = sorted(self.words)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PathNode:
        node = cls(
            hits=int(data.get("hits", 0)),
            shapes=dict(data.get("shapes", {})),
            fold=int(data.get("fold", 0)),
            words=set(data.get("words", ())),
        )
        node.literals = {
            name: cls.from_dict(child) for name, child in data.get("literals", {}).items()
        }
        if "param" in data:
            node.param = cls.from_dict(data["param"])
        return node


def _merge_nodes(target: PathNode, source: PathNode) -> None:
    """Add ``source`` into ``target``, recursively; counts add up."""
    target.hits += source.hits
    for shape, count in source.shapes.items():
        target.shapes[shape] = target.shapes.get(shape, 0) + count
    target.fold = max(target.fold, source.fold)
    _note_words(target, source.words)
    for name, child in source.literals.items():
        existing = target.literals.get(name)
        if existing is None:
            target.literals[name] = child
        else:
            _merge_nodes(existing, child)
    if source.param is not None:
        if target.param is None:
            target.param = source.param
        else:
            _merge_nodes(target.param, source.param)


def _note_words(param: PathNode, words: set[str] | list[str]) -> None:
    for word in words:
        if len(param.words) >= MAX_WORD_SAMPLES:
            return
        param.words.add(word)


def _param_child(node: PathNode) -> PathNode:
    if node.param is None:
        node.param = PathNode()
    return node.param


def _foldable(name: str, fold: int) -> bool:
    shape = segment_shape(name)
    if shape is SegmentShape.VERSION:
        return False
    if shape in IDENTIFIER_SHAPES:
        return True
    if fold >= FOLD_ALL:
        return True
    return fold >= FOLD_WORDS and not is_dictionary_word(name)


def _fold_into_param(node: PathNode, name: str) -> None:
    child = node.literals.pop(name)
    param = _param_child(node)
    shape = segment_shape(name)
    child.shapes[shape.value] = child.shapes.get(shape.value, 0) + child.hits
    _merge_nodes(param, child)
    if shape not in IDENTIFIER_SHAPES:
        _note_words(param, [name])


def _apply_cardinality(node: PathNode) -> bool:
    """Raise the node's fold level when its literals pass the limits; return True on a fold."""
    words = [name for name in node.literals if _foldable(name, FOLD_WORDS)]
    if node.fold < FOLD_WORDS and len(words) > MAX_WORD_SIBLINGS:
        node.fold = FOLD_WORDS
    if node.fold < FOLD_WORDS and node.param is not None and node.param.hits > MAX_WORD_SIBLINGS:
        node.fold = FOLD_WORDS  # next to a busy parameter, odd words are more ids of it
    folded_words = node.param.words if node.param is not None else set()
    if node.fold < FOLD_ALL and len(node.literals) + len(folded_words) > MAX_LITERAL_SIBLINGS:
        node.fold = FOLD_ALL
    if not node.fold:
        return False
    sticky = _sticky_hits(node) if node.fold >= FOLD_ALL else 0
    folded = False
    for name in list(node.literals):
        busy = (
            node.fold >= FOLD_ALL
            and node.literals[name].hits >= sticky
            and not _foldable(name, FOLD_WORDS)
        )
        if _foldable(name, node.fold) and not busy:
            _fold_into_param(node, name)
            folded = True
    return folded


def _sticky_hits(node: PathNode) -> int:
    """Return the hits that keep a dictionary word literal in a full fold.

    The bar is ``STICKY_FACTOR`` times the hits of a typical word value: the
    mean over the word values already folded and the literals still apart.
    """
    values = len(node.literals)
    hits = sum(child.hits for child in node.literals.values())
    if node.param is not None and node.param.words:
        values += len(node.param.words)
        hits += sum(node.param.shapes.get(shape.value, 0) for shape in _WORD_SHAPES)
    typical = hits / values if values else 0.0
    return max(MIN_STICKY_HITS, int(STICKY_FACTOR * typical))


class PathTree:
    """The learned templates of one service."""

    def __init__(self, root: PathNode | None = None) -> None:
        self.root = root or PathNode()
        self._nodes = self.root.count_nodes()
        self.revision = 0  # counts folds, so callers know when to re-key endpoints

    def learn(self, segments: list[str]) -> str:
        """Add one path (its percent-decoded segments) and return its current template."""
        if len(segments) > MAX_SEGMENTS:
            raise PathTooDeep(
                f"path has {len(segments)} segments; at most {MAX_SEGMENTS} are learned"
            )
        node = self.root
        node.hits += 1
        # Sibling counts change only where a new value arrived, so only those
        # nodes are checked against the cardinality limits.
        changed: list[PathNode] = []
        for segment in segments:
            parent = node
            node, new_value = self._step(parent, segment)
            node.hits += 1
            if new_value:
                changed.append(parent)
        folded = False
        for parent in changed:
            if _apply_cardinality(parent):
                folded = True
        if folded:
            self.revision += 1
            self._nodes = self.root.count_nodes()
        return self.resolve(segments)

    def _step(self, node: PathNode, segment: str) -> tuple[PathNode, bool]:
        """Return the child for ``segment`` and whether a value new to the node arrived."""
        child = node.literals.get(segment)
        if child is not None:
            return child, False
        shape = segment_shape(segment)
        crowded = self._nodes >= MAX_NODES
        if shape in IDENTIFIER_SHAPES or crowded or (node.fold and _foldable(segment, node.fold)):
            param = _param_child(node)
            param.shapes[shape.value] = param.shapes.get(shape.value, 0) + 1
            if shape in IDENTIFIER_SHAPES:
                return param, not node.fold  # the family may now be big enough to fold words
            if segment in param.words:
                return param, False
            _note_words(param, [segment])
            return param, True
        child = PathNode()
        node.literals[segment] = child
        self._nodes += 1
        return child, True

    def resolve(self, segments: list[str]) -> str:
        """Return the template of a path, or re-resolve an older template, without learning."""
        node: PathNode | None = self.root
        parts: list[str] = []
        names: list[str] = []
        literals: list[str] = []
        for segment in segments:
            child = node.literals.get(segment) if node else None
            is_param = segment.startswith("{") and segment.endswith("}")
            if child is not None and not is_param:
                parts.append(segment)
                literals.append(segment)
                node = child
            elif node is not None and node.param is not None and (is_param or child is None):
                name = _param_name(literals, node.param, names)
                names.append(name)
                parts.append("{" + name + "}")
                node = node.param
            else:
                # Not in the tree (a template from before a restart, or an unknown path).
                parts.append(segment)
                if not is_param:
                    literals.append(segment)
                node = None
        return "/" + "/".join(parts)

    def merge(self, other: PathTree) -> None:
        """Add another tree's counts, then re-apply the cardinality limits."""
        _merge_nodes(self.root, PathNode.from_dict(other.root.to_dict()))
        for node in _walk(self.root):
            if node.fold or len(node.literals) > MAX_WORD_SIBLINGS:
                _apply_cardinality(node)
        self._nodes = self.root.count_nodes()
        self.revision += 1

    def to_dict(self) -> dict[str, Any]:
        return self.root.to_dict()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PathTree:
        return cls(PathNode.from_dict(data))


def _walk(node: PathNode) -> Iterator[PathNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.literals.values())
        if current.param is not None:
            stack.append(current.param)


_SHAPE_SUFFIXES = {"date": "Date", "date-time": "Time", "email": "Email"}


def _param_name(literals: list[str], param: PathNode, taken: list[str]) -> str:
    """Name a parameter after the nearest literal word before it: users -> userId."""
    base = ""
    for literal in reversed(literals):
        parts = word_parts(literal)
        if parts and segment_shape(literal) is SegmentShape.WORD:
            parts[-1] = singular(parts[-1])
            base = parts[0] + "".join(part.capitalize() for part in parts[1:])
            break
    dominant = max(param.shapes.items(), key=lambda item: item[1])[0] if param.shapes else ""
    suffix = _SHAPE_SUFFIXES.get(dominant, "Id")
    name = base + suffix if base else suffix.lower()
    if not name.isidentifier():
        name = suffix.lower()
    unique = name
    index = 2
    while unique in taken:
        unique = f"{name}{index}"
        index += 1
    return unique


def split_template(template: str) -> list[str]:
    """Split a template or a concrete path into segments (the leading slash dropped)."""
    return template.split("/")[1:]
