"""Reading one sweep file's source with libcst (never imported or executed): the 15 leading
columns of every entry of ``parameters[suite]["input_specs"]`` and ``failing_parameters*``.  See
``migrator.verify.specs`` for what is taken and why."""

from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from migrator.verify.placement import ConvSpec


def _literal(node: cst.BaseExpression):
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) \
            and isinstance(node.expression, cst.Integer):
        return -int(node.expression.evaluated_value)
    raise ValueError("not a literal")


def _entries(lst: cst.BaseExpression, where: str, warnings: List[str]) -> List[ConvSpec]:
    if not isinstance(lst, (cst.List, cst.Tuple)):
        warnings.append(f"{where}: not a list literal; skipped")
        return []
    out: List[ConvSpec] = []
    bad = 0
    for el in lst.elements:
        row = el.value
        if not isinstance(row, (cst.List, cst.Tuple)) or len(row.elements) < 15:
            bad += 1
            continue
        try:
            vals = [_literal(e.value) for e in row.elements[:15]]
            out.append(ConvSpec.from_row(vals))
        except (ValueError, TypeError):
            bad += 1
    if bad:
        warnings.append(f"{where}: {bad} entr{'y' if bad == 1 else 'ies'} skipped "
                        "(not 15 leading int/bool columns of a conv2d spec)")
    return out


def _key(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value if isinstance(node.evaluated_value, str) else None
    return None


def read_sweep_source(text: str, label: str) -> Tuple[List[ConvSpec], List[str]]:
    """Specs and warnings from one sweep file's source text (never executed)."""
    warnings: List[str] = []
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return [], [f"{label}: cannot parse ({str(exc).splitlines()[0]}); skipped"]
    specs: List[ConvSpec] = []
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                target, value = small.target, small.value
            else:
                continue
            if not isinstance(target, cst.Name):
                continue
            name = target.value
            if name == "parameters":
                if not isinstance(value, cst.Dict):
                    warnings.append(f"{label}: `parameters` is not a dict literal; skipped")
                    continue
                for el in value.elements:
                    if not isinstance(el, cst.DictElement):
                        continue
                    suite = _key(el.key) or "?"
                    if not isinstance(el.value, cst.Dict):
                        warnings.append(f"{label}: parameters[{suite!r}] is not a dict literal; skipped")
                        continue
                    for sub in el.value.elements:
                        if isinstance(sub, cst.DictElement) and _key(sub.key) == "input_specs":
                            specs += _entries(sub.value, f"{label}: parameters[{suite!r}]['input_specs']", warnings)
            elif name.startswith("failing_parameters"):
                specs += _entries(value, f"{label}: {name}", warnings)
    return specs, warnings


