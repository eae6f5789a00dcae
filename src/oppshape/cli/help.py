"""``python -m oppshape --help``: the groups and their choices, every field with its one-line description,
and the experiments by name, read from ``configs/`` and the schema dataclasses' own comments."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import textwrap
import tokenize

from oppshape.cli.compose import CONFIG_DIR
from oppshape.config import ALGORITHM_FAMILIES, LoggerConfig, TrainerConfig, family_schemas

USAGE = """usage: python -m oppshape [experiment=<name>] [<group>=<choice>] [<group>.<field>=<value> ...] [--debug]
       python -m oppshape -m [hydra/launcher=joblib] <key>=<a>,<b> ...   (a sweep; a summary.csv in its folder)
       python -m oppshape resume=<run dir> [trainer.iterations=N ...]   (continue exactly)
       python -m oppshape init_from=<run dir> <overrides>              (a new run from a checkpoint's weights)"""


def field_docs(schema: type) -> dict[str, str]:
    """``{field: description}`` from the comment on a field's line, the comment lines just above it, or a
    string right below it, for ``schema`` and its dataclass bases."""
    docs: dict[str, str] = {}
    for cls in reversed(schema.__mro__):
        if not dataclasses.is_dataclass(cls):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(cls))
        except (OSError, TypeError):
            continue
        comments = {token.start[0]: token.string.lstrip("# ").strip()
                    for token in tokenize.generate_tokens(io.StringIO(source).readline)
                    if token.type == tokenize.COMMENT}
        body = ast.parse(source).body[0].body
        for index, node in enumerate(body):
            if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
                continue
            above, line = [], node.lineno - 1
            while line in comments and source.splitlines()[line - 1].lstrip().startswith("#"):
                above.insert(0, comments[line])
                line -= 1
            after = body[index + 1] if index + 1 < len(body) else None
            below = after.value.value if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) else ""
            docs[node.target.id] = comments.get(node.lineno) or " ".join(above) or str(below).strip()
    return docs


def describe_schema(title: str, schema: type) -> list[str]:
    docs = field_docs(schema)
    lines = [f"{title}:"]
    for field in dataclasses.fields(schema):
        default = field.default if field.default is not dataclasses.MISSING else "(required)"
        lines.append(f"  {field.name} = {default!r}  {docs.get(field.name, '')}".rstrip())
    return lines


def choices(group: str) -> list[str]:
    return sorted(path.stem for path in (CONFIG_DIR / group).glob("*.yaml"))


def root_keys() -> list[str]:
    """The root keys of ``configs/config.yaml`` with their trailing comments."""
    lines = []
    for line in (CONFIG_DIR / "config.yaml").read_text().splitlines():
        if line and not line.startswith((" ", "#", "-", "defaults", "hydra")) and ":" in line:
            key, _, rest = line.partition(":")
            value, _, comment = rest.partition("#")
            lines.append(f"  {key} = {value.strip()}  {comment.strip()}".rstrip())
    return lines


def help_text() -> str:
    sections = [USAGE, "", f"experiments (experiment=<name>): {', '.join(choices('experiment'))}", "",
                "groups (<group>=<choice>):"]
    sections += [f"  {group}: {', '.join(choices(group))}" for group in ("env", "algo", "trainer", "logger")]
    sections += ["", "root keys:", *root_keys(), ""]
    sections += describe_schema("trainer.<field>", TrainerConfig) + [""]
    sections += describe_schema("logger.<field>", LoggerConfig) + [""]
    envs: dict[str, type] = {}
    for family in sorted(set(ALGORITHM_FAMILIES.values())):
        try:
            schemas = family_schemas(family)
        except Exception as error:  # noqa: BLE001 - one broken family must not hide the others' help
            sections += [f"algo family {family}: schemas unavailable ({type(error).__name__}: {error})", ""]
            continue
        for name, schema in schemas.ALGO_SCHEMAS.items():
            sections += describe_schema(f"algo={name} (family {family}): algo.<field>", schema) + [""]
        envs.update(schemas.ENV_SCHEMAS)
    for name, schema in sorted(envs.items()):
        sections += describe_schema(f"env={name}: env.<field>", schema) + [""]
    return "\n".join(sections).rstrip()
