"""A reader for the subset of Prisma schema syntax that describes MongoDB documents.

The target schema is the migration's contract: every written document is validated against
it (validator.py) and its indexes/uniques are created from it. Relation fields (a field whose
type is another model) are not stored in documents and are ignored.
"""
from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass, field

from migration.engine.errors import ConfigError

SCALARS = {"String", "Int", "BigInt", "Float", "Decimal", "Boolean", "DateTime", "Json", "Bytes"}
_BLOCK = re.compile(r"^(model|type|enum|datasource|generator|view)\s+(\w+)\s*\{$")
_FIELD = re.compile(r"^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$")


@dataclass(frozen=True)
class Field:
    name: str          # the Prisma field name
    db_name: str       # the key in the stored document (@map, "_id" for the id)
    type: str          # a scalar, an enum name or a type (embedded document) name
    is_list: bool = False
    optional: bool = False
    object_id: bool = False
    is_id: bool = False
    unique: bool = False
    default: str | None = None
    unique_map: str | None = None   # the arguments of @unique(...), e.g. map: "name"


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple        # ((db path, 1 or -1), ...)
    unique: bool = False


@dataclass
class Composite:
    """A model (a collection) or a `type` block (an embedded document)."""
    name: str
    kind: str                                   # "model" or "type"
    fields: dict = field(default_factory=dict)  # db_name -> Field
    collection: str | None = None
    indexes: list = field(default_factory=list)


@dataclass
class Schema:
    path: str
    models: dict = field(default_factory=dict)   # model name -> Composite
    types: dict = field(default_factory=dict)    # type name -> Composite
    enums: dict = field(default_factory=dict)    # enum name -> frozenset of values

    def model_for_collection(self, collection: str) -> Composite | None:
        for model in self.models.values():
            if model.collection == collection:
                return model
        return None

    def collections(self) -> list:
        return sorted(m.collection for m in self.models.values())


def load_schema(path) -> Schema:
    path = pathlib.Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the schema file {path}: {exc.strerror}") from exc
    return parse_schema(text, str(path))


def parse_schema(text: str, origin: str = "<schema>") -> Schema:
    schema = Schema(path=origin)
    raw_blocks = _blocks(text, origin)
    for kind, name, _, _ in raw_blocks:
        if kind == "enum":
            schema.enums[name] = frozenset()
    model_names = {n for k, n, _, _ in raw_blocks if k == "model"}
    for kind, name, lines, start in raw_blocks:
        if kind == "enum":
            schema.enums[name] = frozenset(line.split()[0] for _, line in lines if not line.startswith("@"))
        elif kind in ("model", "type"):
            block = _composite(kind, name, lines, model_names, origin)
            (schema.models if kind == "model" else schema.types)[name] = block
    unknown = [f"{block.name}.{f.name} has unknown type {f.type!r}"
               for block in list(schema.models.values()) + list(schema.types.values())
               for f in block.fields.values()
               if f.type not in SCALARS and f.type not in schema.enums and f.type not in schema.types]
    if unknown:  # every one at once: a schema from another release usually has several
        raise ConfigError(f"{origin}: " + "; ".join(unknown))
    return schema


def _blocks(text: str, origin: str) -> list:
    blocks, current = [], None
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw)
        if not line:
            continue
        if current is None:
            match = _BLOCK.match(line)
            if not match:
                raise ConfigError(f"{origin}:{number}: expected a block "
                                  f"(model/type/enum NAME {{), found {line!r}")
            current = (match.group(1), match.group(2), [], number)
        elif line == "}":
            blocks.append(current)
            current = None
        else:
            current[2].append((number, line))
    if current is not None:
        raise ConfigError(f"{origin}:{current[3]}: block {current[1]!r} is never closed")
    return blocks


def _strip_comment(raw: str) -> str:
    # `//` starts a comment unless inside a string literal (e.g. @default("http://...")).
    out, quoted = [], False
    for i, ch in enumerate(raw):
        if ch == '"' and (i == 0 or raw[i - 1] != "\\"):
            quoted = not quoted
        if not quoted and raw.startswith("//", i):
            break
        out.append(ch)
    return "".join(out).strip()


def _composite(kind, name, lines, model_names, origin) -> Composite:
    block = Composite(name=name, kind=kind, collection=name if kind == "model" else None)
    by_prisma_name: dict = {}
    pending_block_attrs = []
    for number, line in lines:
        if line.startswith("@@"):
            pending_block_attrs.append((number, line))
            continue
        match = _FIELD.match(line)
        if not match:
            raise ConfigError(f"{origin}:{number}: cannot read field line {line!r}")
        fname, ftype, is_list, optional, rest = match.groups()
        attrs = _attributes(rest)
        if ftype in model_names or "relation" in attrs:
            continue  # a relation: lives in another collection, not in this document
        db_name = _unquote(attrs["map"]) if "map" in attrs else fname
        is_id = "id" in attrs
        if is_id and kind == "model":
            db_name = "_id"
        f = Field(name=fname, db_name=db_name, type=ftype, is_list=bool(is_list),
                  optional=bool(optional), object_id="db.ObjectId" in attrs, is_id=is_id,
                  unique="unique" in attrs, default=attrs.get("default"),
                  unique_map=attrs.get("unique"))
        block.fields[db_name] = f
        by_prisma_name[fname] = f
    # @@map first: default index names are made of the collection's name, wherever it is declared.
    for number, line in sorted(pending_block_attrs, key=lambda item: not item[1].startswith("@@map")):
        _block_attribute(block, line, by_prisma_name, origin, number)
    if kind == "model":  # field uniques first, as they were before
        block.indexes[:0] = [Index(_field_unique_name(block, f), ((f.db_name, 1),), unique=True)
                             for f in block.fields.values() if f.unique]
    return block


# Prisma's MongoDB connector limits constraint names to 127 bytes and cuts the default ones.
MAX_INDEX_NAME = 127


def default_index_name(collection: str, db_fields, unique: bool) -> str:
    """The name `prisma db push` gives an index without `map:`: the collection and the stored
    field names (not the Prisma names) joined by "_", then "_key" (unique) or "_idx", the
    part before the suffix cut so the whole stays within MAX_INDEX_NAME bytes."""
    suffix = "_key" if unique else "_idx"
    stem = f"{collection}_{'_'.join(db_fields)}"
    limit = MAX_INDEX_NAME - len(suffix)
    if len(stem.encode()) >= limit:
        stem = stem.encode()[:limit].decode("utf-8", "ignore")
    return stem + suffix


def _field_unique_name(block, f) -> str:
    explicit = _mapped_name(f.unique_map)
    return explicit or default_index_name(block.collection, [f.db_name], unique=True)


def _mapped_name(args):
    """The `map: "..."` argument of an attribute (the index's own name), or None."""
    found = re.search(r"\bmap:\s*\"([^\"]+)\"", args or "")
    return found.group(1) if found else None


def _block_attribute(block, line, by_prisma_name, origin, number) -> None:
    match = re.match(r"^@@(\w+)\s*\((.*)\)$", line)
    if not match:
        raise ConfigError(f"{origin}:{number}: cannot read block attribute {line!r}")
    attr, args = match.groups()
    if attr == "map":
        block.collection = _unquote(args.strip())
        return
    if attr not in ("unique", "index", "id"):
        return  # @@fulltext, @@schema...: nothing the migration needs
    fields_part = re.search(r"\[(.*?)\]", args)
    if not fields_part:
        raise ConfigError(f"{origin}:{number}: {line!r} lists no fields")
    keys = []
    for item in _split_top(fields_part.group(1)):
        fname = item.split("(", 1)[0].strip()
        direction = -1 if re.search(r"sort:\s*Desc", item) else 1
        f = by_prisma_name.get(fname)
        if f is None:
            raise ConfigError(f"{origin}:{number}: {block.name} has no field {fname!r} "
                              f"(named in {line!r})")
        keys.append((f.db_name, direction))
    unique = attr in ("unique", "id")
    # `name:` is the client's selector name, not the index's: only `map:` names the index.
    index_name = _mapped_name(args) or default_index_name(block.collection, [k for k, _ in keys], unique)
    block.indexes.append(Index(index_name, tuple(keys), unique=unique))


def _attributes(rest: str) -> dict:
    """'@id @default(auto()) @map("_id") @db.ObjectId' -> {id: None, default: 'auto()', ...}."""
    attrs, i = {}, 0
    while i < len(rest):
        if rest[i] != "@":
            i += 1
            continue
        match = re.match(r"@([\w.]+)", rest[i:])
        name, i = match.group(1), i + match.end()
        value = None
        if i < len(rest) and rest[i] == "(":
            depth, start = 0, i
            while i < len(rest):
                depth += rest[i] == "("
                depth -= rest[i] == ")"
                i += 1
                if depth == 0:
                    break
            value = rest[start + 1:i - 1].strip()
        attrs[name] = value
    return attrs


def _split_top(text: str) -> list:
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if value.startswith("name:") or value.startswith("map:"):
        value = value.split(":", 1)[1].strip()
    return value.strip('"')
