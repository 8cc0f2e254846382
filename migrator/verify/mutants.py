"""Binding mutants: plausible wrong sources substituted into migrated C++, to measure whether the
path check (:mod:`migrator.verify.pathcheck`) catches every one that changes a value.

For every bound ``SlidingWindowConfig`` field of every exact call, and for every argument that a
caller passes into a *threaded* parameter (a parameter of a function or lambda on a path to the site
that the migration added), each other in-scope candidate of a compatible value is substituted:
candidates are found by evaluating every visible name once (a pair, a four-value padding, a
parallel config, a memory config, an integer), plus ``{1, 1}``, core count +-1, and the padding
of the whole input at a slice.  A mutant is *killed* when the check reports a mismatch or cannot
evaluate it; *equivalent* when no evaluated value changes on any context of any path; otherwise it
*survived*.  Score = killed / (killed + survived).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Set, Tuple

from migrator.engine import cpp
from migrator.engine.scope import scope_at
from migrator.engine.source import SourceFile
from migrator.verify import pathcheck as pc
from migrator.verify import paths as P
from migrator.verify import placement as pm


@dataclass
class Mutant:
    path: str
    start: int
    end: int
    text: str
    where: str  # "site file:line field X" / "caller file:line arg p"
    original: str

    def apply(self, data: bytes) -> bytes:
        return data[:self.start] + self.text.encode() + data[self.end:]


@dataclass
class MutantResult:
    mutant: Mutant
    status: str  # killed / survived / equivalent
    detail: str = ""


def _kind(v) -> Optional[str]:
    if isinstance(v, tuple) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return "pair"
    if isinstance(v, tuple) and len(v) == 4 and all(isinstance(x, int) for x in v):
        return "pad4"
    if isinstance(v, P.Obj) and v.kind == "ParallelConfig":
        return "pc"
    if isinstance(v, P.Obj) and v.kind == "MemoryConfig":
        return "mem"
    if isinstance(v, int) and not isinstance(v, bool):
        return "int"
    return None


def _probe_ctxs(specs, auto_folding: bool) -> List[P.Ctx]:
    """Contexts to evaluate in-scope names in, built as the path check builds its own (a tree that
    folds by itself has an unset folding flag in its default conv config)."""
    out = []
    for spec in specs[:3]:
        for layout in pm.LAYOUTS:
            out.append(P.Ctx(spec, layout, "wormhole", P.entry_values(spec, "wormhole", auto_folding=auto_folding),
                             auto_folding=auto_folding))
    return out


def candidates_at(comp: P.Compiler, frame: P.Frame, src: SourceFile, at, probes) -> Dict[str, List[str]]:
    """In-scope expressions by value kind, evaluated at ``at`` in ``frame``."""
    out: Dict[str, List[str]] = {"pair": [], "pad4": [], "pc": [], "mem": [], "int": []}
    for name in scope_at(src, at).names():
        try:
            fn = comp.ident(name.name, at, frame)
        except P.PathEvalError:
            continue
        value = None
        for ctx in probes:
            try:
                value = fn(replace(ctx, cache={}, failed={}))
                break
            except (P.PathEvalError, P.PathNotReached, Exception):
                continue
        k = _kind(value)
        if k:
            out[k].append(name.name)
        elif isinstance(value, dict):
            for f in list(value.keys()):
                try:
                    v = value[f]  # a member the evaluator cannot compute is not a candidate
                except P.PathEvalError:
                    continue
                k = _kind(v)
                if k in ("pair", "pad4", "int"):
                    out[k].append(f"{name.name}.{f}")
    return out


def _norm(t: str) -> str:
    return re.sub(r"\s+", "", t)


def field_mutants(field: str, original: str, cands: Dict[str, List[str]]) -> List[str]:
    o = _norm(original)
    out: List[str] = []
    if field in ("input_hw", "window_hw", "stride_hw", "dilation_hw"):
        out += [f"{{{x}[0], {x}[1]}}" for x in cands["pair"]]
        out.append("{1, 1}")
        m = re.fullmatch(r"\{(.+),(.+)\}", o)
        if m and "[" not in m.group(1):
            out.append(f"{{{m.group(2)}, {m.group(1)}}}")
    elif field == "padding":
        out += list(cands["pad4"]) + ["{0, 0, 0, 0}"]
    elif field == "num_cores_nhw":
        out += [f"get_num_cores_nhw_from_parallel_config({x})" for x in cands["pc"]]
        out += [f"({original}) + 1", f"({original}) - 1"]
    elif field == "core_range_set":
        out += [f"{x}.shard_spec().value().grid" for x in cands["mem"]] + [f"{x}.grid" for x in cands["pc"]]
    elif field == "batch_size":
        out += list(cands["int"])[:12]
    elif field == "snap_to_tile":
        out.append("false")
    seen: Set[str] = set()
    res = []
    for t in out:
        if _norm(t) != o and _norm(t) not in seen:
            seen.add(_norm(t))
            res.append(t)
    return res


def generate(sources: Sequence[SourceFile], specs, threaded: Dict[str, Set[str]]) -> List[Mutant]:
    """``threaded``: function or lambda name -> names of parameters the migration added."""
    index = P.Index(sources)
    comp = P.Compiler(index)
    probes = _probe_ctxs(specs, pc.auto_folding(index))
    mutants: List[Mutant] = []
    done_calls: Set[Tuple[str, int, int]] = set()
    for site in pc.read_sites(index.sources):
        chains = pc.enumerate_paths(index, site.src, site.call)
        if not chains:
            continue
        bp = pc.bind_path(comp, site, pc.CallPath(chains[0]), {})
        cands = candidates_at(comp, bp.site_frame, site.src, site.call, probes)
        where = f"{site.path}:{site.line}"
        for field, node in site.bindings.items():
            orig = site.src.text(node)
            for text in field_mutants(field, orig, cands):
                mutants.append(Mutant(site.path, node.start_byte, node.end_byte, text, f"site {where} {field}", orig))
        orig = site.src.text(site.shard)
        for x in cands["pair"]:
            if _norm(x) != _norm(orig):
                mutants.append(Mutant(site.path, site.shard.start_byte, site.shard.end_byte, x,
                                      f"site {where} shard_shape", orig))
        # threaded arguments at every caller on every path
        for chain in chains:
            path = pc.CallPath(chain)
            bpx = pc.bind_path(comp, site, path, {})
            frames = _frames_of(comp, path)
            for step, frame in zip(path.steps[1:], frames):
                new = threaded.get(step.name, set())
                if not new:
                    continue
                key = (step.src.path, step.call.start_byte, 0)
                if key in done_calls:
                    continue
                done_calls.add(key)
                ccands = candidates_at(comp, frame, step.src, step.call, probes)
                for p, a in zip(cpp.parameters(step.callee), cpp.arguments(step.call)):
                    if p.name not in new:
                        continue
                    orig = step.src.text(a)
                    kind = "pad4" if re.search(r",\s*4\s*>", p.type_text) else "pair"
                    texts = list(ccands[kind])
                    if kind == "pair":
                        texts.append("{1, 1}")
                    else:
                        texts += ["{0, 0, 0, 0}"]
                    seen = set()
                    for t in texts:
                        if _norm(t) == _norm(orig) or _norm(t) in seen:
                            continue
                        seen.add(_norm(t))
                        mutants.append(Mutant(step.src.path, a.start_byte, a.end_byte, t,
                                              f"caller {step.src.path}:{step.src.line(step.call)} → {step.name}({p.name})",
                                              orig))
            del bpx
    return mutants


def _frames_of(comp: P.Compiler, path: pc.CallPath) -> List[P.Frame]:
    """The caller frame of each step after the root (the frame the step's call is evaluated in)."""
    root = path.steps[0]
    params = {p.name: pc._root_param(p.name, p.type_text, {}) for p in cpp.parameters(root.callee)}
    frame = comp.frame(root.callee_src, root.callee, params, label=root.name)
    out = []
    for step in path.steps[1:]:
        out.append(frame)
        pfns = {p.name: pc._lazy(comp, a, frame) for p, a in zip(cpp.parameters(step.callee), cpp.arguments(step.call))}
        if step.callee.type == "lambda_expression":
            frame = comp.frame(step.callee_src, step.callee, pfns, parent=frame, call_point=step.call, label=step.name)
        else:
            frame = comp.frame(step.callee_src, step.callee, pfns, label=step.name)
    return out


def threaded_params(before: Dict[str, bytes], after: Sequence[SourceFile]) -> Dict[str, Set[str]]:
    """Parameters of functions/lambdas in ``after`` that the same function/lambda lacks in ``before``."""
    def params_by_name(srcs):
        out: Dict[str, Set[str]] = {}
        for src in srcs:
            for n in cpp.walk(src.root):
                if n.type == "function_definition":
                    name = cpp.last_name(cpp.function_name(n))
                elif n.type == "lambda_expression":
                    name = pc._lambda_var(n, src)
                else:
                    continue
                if name:
                    out.setdefault(name, set()).update(p.name for p in cpp.parameters(n))
        return out
    old = params_by_name([SourceFile.parse(p, d) for p, d in before.items()])
    new = params_by_name(after)
    return {k: v - old.get(k, set()) for k, v in new.items() if k in old and v - old.get(k, set())}


def run(sources: Sequence[SourceFile], specs, grids, threaded, progress=None) -> Tuple[List[MutantResult], dict]:
    base = pc.check_sources(sources, specs, grids, record=True)
    base_fp = {(r.path, i): r.values for i, r in enumerate(base)}
    by_path = {s.path: s for s in sources}
    results = []
    mutants = generate(sources, specs, threaded)
    for m in mutants:
        src = by_path[m.path]
        mutated = [SourceFile.parse(s.path, m.apply(s.data)) if s.path == m.path else s for s in sources]
        try:
            res = pc.check_sources(mutated, specs, grids, record=True)
        except P.PathEvalError as exc:
            results.append(MutantResult(m, "killed", f"evaluation failed: {exc.message}"))
            continue
        if any(r.failed for r in res):
            bad = next(r for r in res if r.failed)
            detail = bad.error or next((f"{p.label}: {dict(p.mismatch_fields) or dict(p.errors)}"
                                        for p in bad.paths if p.mismatches or p.errors), "no contexts")
            results.append(MutantResult(m, "killed", detail))
            continue
        fp = {(r.path, i): r.values for i, r in enumerate(res)}
        results.append(MutantResult(m, "equivalent" if fp == base_fp else "survived"))
        if progress:
            progress(m)
        del src
    summary = {"mutants": len(results), "killed": sum(r.status == "killed" for r in results),
               "survived": sum(r.status == "survived" for r in results),
               "equivalent": sum(r.status == "equivalent" for r in results)}
    denom = summary["killed"] + summary["survived"]
    summary["score"] = round(100.0 * summary["killed"] / denom, 1) if denom else None
    return results, summary
