"""Read the bindings of already-migrated call sites back from the C++.

For each call ``calculate_precise_halo_output_elems(X, shape)`` (outside its own definition), the
``X.field = expr;`` statements that follow ``SlidingWindowConfig X;`` in the enclosing blocks, before
the call, are the bindings (a designated initializer ``SlidingWindowConfig X{.field = expr}`` is
read too).  Roles are derived from the dotted names in those expressions by the same naming
patterns the recipe binds (``batch_size``, ``stride``, ``kernel_size``, ``dilation``,
``*padding*``, ``*height``, ``*width``, ``*parallel_config``, ``*memory_config``); the second
argument is the shard shape.  A slice site whose padding is a literal ``{0, 0, 0, 0}`` is taken to
receive slice sizes that already contain the padding.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional

from migrator.engine.project import Project
from migrator.verify.core import SiteInput

PRECISE = "calculate_precise_halo_output_elems"

_DOTTED = re.compile(r"(?<![\w.>:])([A-Za-z_]\w*(?:\s*(?:\.|->)\s*[A-Za-z_]\w*)*)")

ROLE_PATTERNS = [
    (re.compile(r"^batch_size$"), "batch_size"),
    (re.compile(r"^stride$"), "stride"),
    (re.compile(r"^kernel_size$"), "kernel_size"),
    (re.compile(r"^dilation$"), "dilation"),
    (re.compile(r"^slice_padding$"), "slice_padding"),
    (re.compile(r"^slice_input_hw$"), "slice_input_hw"),
    (re.compile(r"padding"), "padding"),
    (re.compile(r"height$"), "input_height"),
    (re.compile(r"width$"), "input_width"),
    (re.compile(r"parallel_config$"), "parallel_config"),
    (re.compile(r"memory_config$"), "memory_config"),
]


def role_of_name(last: str) -> Optional[str]:
    for rx, role in ROLE_PATTERNS:
        if rx.search(last):
            return role
    return None


def derive_roles(exprs: List[str], shard_shape: str) -> Dict[str, str]:
    roles: Dict[str, str] = {re.sub(r"\s+", "", shard_shape): "shard_shape"}
    for expr in exprs:
        for m in _DOTTED.finditer(expr):
            if expr[m.end():].lstrip().startswith("(") and "." not in m.group(1) and "->" not in m.group(1):
                continue  # a free function's name
            chain = re.split(r"\s*(?:\.|->)\s*", m.group(1))
            sep = "." if "->" not in m.group(1) else "->"
            for n in range(len(chain), 0, -1):
                role = role_of_name(chain[n - 1])
                if role is not None:
                    roles.setdefault(sep.join(chain[:n]), role)
                    break
    return roles


def _name_of(src, node) -> str:
    """Name of a function definition or of the variable a lambda is assigned to."""
    if node.type == "function_definition":
        d = node.child_by_field_name("declarator")
        while d is not None and d.type not in ("identifier", "qualified_identifier", "field_identifier",
                                                "destructor_name", "operator_name"):
            d = d.child_by_field_name("declarator")
        return src.text(d).split("::")[-1] if d is not None else ""
    if node.type == "lambda_expression":
        p = node.parent
        if p is not None and p.type == "init_declarator":
            return src.text(p.child_by_field_name("declarator"))
    return ""


def _enclosing(node, kind):
    n = node.parent
    while n is not None and n.type != kind:
        n = n.parent
    return n


def _statement_of(node):
    n = node
    while n.parent is not None and n.parent.type != "compound_statement":
        n = n.parent
    return n


def sites_from_code(project: Project) -> List[SiteInput]:
    out: List[SiteInput] = []
    for src in project.mentioning(PRECISE):
        stack = [src.root]
        while stack:
            node = stack.pop()
            stack.extend(node.children)
            if node.type != "call_expression":
                continue
            fn = src.text(node.child_by_field_name("function")).split("::")[-1].strip()
            if fn != PRECISE:
                continue
            func = _enclosing(node, "function_definition")
            if func is None or _name_of(src, func) == PRECISE:
                continue
            args = [a for a in node.child_by_field_name("arguments").named_children if a.type != "comment"]
            if len(args) != 2 or args[0].type != "identifier":
                continue
            site = _read_site(src, node, func, src.text(args[0]), src.text(args[1]))
            if site is not None:
                out.append(site)
    out.sort(key=lambda s: (s.path, s.line))
    return out


def _read_site(src, call, func, config: str, shard: str) -> Optional[SiteInput]:
    bindings: Dict[str, str] = {}
    stmt = _statement_of(call)
    block = stmt.parent
    found_decl = False
    # walk outwards through the enclosing blocks, reading the statements before the call
    while block is not None and block.type == "compound_statement" and not found_decl:
        before = [c for c in block.named_children if c.end_byte <= stmt.start_byte]
        for s in before:
            text = src.text(s)
            if s.type == "declaration" and re.match(rf"^\s*(?:[\w:]*::)?SlidingWindowConfig\s+{re.escape(config)}\b",
                                                    text):
                found_decl = True
                bindings = {}
                for m in re.finditer(r"\.(\w+)\s*=\s*((?:[^,{}]|\{[^{}]*\})+)", text.split(config, 1)[1]):
                    bindings[m.group(1)] = m.group(2).strip().rstrip(";").strip()
                continue
            if found_decl and s.type == "expression_statement":
                m = re.match(rf"^\s*{re.escape(config)}\s*\.\s*(\w+)\s*=\s*(.*?)\s*;\s*$", text, re.S)
                if m:
                    bindings[m.group(1)] = re.sub(r"\s+", " ", m.group(2))
        if not found_decl:
            stmt = _statement_of(block) if block.parent is not None else block
            block = stmt.parent
    if not found_decl:
        return None
    lam = _enclosing(call, "lambda_expression")
    lambda_name = _name_of(src, lam) if lam is not None and lam.start_byte > func.start_byte else ""
    function = _name_of(src, func)
    roles = derive_roles(list(bindings.values()), shard)
    pad = re.sub(r"\s+", "", bindings.get("padding", ""))
    is_slice = "slice" in f"{function} {lambda_name}".lower()
    return SiteInput(
        path=src.path, line=src.line(call), function=function, lambda_name=lambda_name, config_name=config,
        shard_shape=shard,
        bindings=[(f, e, f"read from the migrated code ({src.path})") for f, e in bindings.items()],
        roles=roles, slice_dims_include_padding=is_slice and re.fullmatch(r"\{0+(,0+){3}\}", pad) is not None,
    )
