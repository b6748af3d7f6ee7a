"""`repeat`: a select over an element and, recursively, everything nested below it by the given paths."""

from __future__ import annotations

from dataclasses import replace

from pyspark.sql import Column
from pyspark.sql import functions as F

from spark_jobs.sof import compiler as C
from spark_jobs.sof.compiler import Expr
from spark_jobs.sof.errors import RUNTIME_ERROR_PREFIX, UnsupportedViewError, ViewDefinitionError
from spark_jobs.sof.scope import ViewScope

REPEAT_MAX_DEPTH = 10  # levels a `repeat` unrolls to; deeper data fails loudly at run time


def repeat_collection(paths: object, focus: Expr, scope: ViewScope, max_depth: int, loc: str) -> Expr:
    """All items reached from `focus` by `paths`, depth-first pre-order, unrolled `max_depth` levels.

    Marks the item type recursive in the schema tree (its nested levels are parsed from JSON text), so
    the caller must recompile until the schema converges; an empty result means nothing was marked."""
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise ViewDefinitionError("repeat must be a non-empty array of FHIRPath strings", loc)

    def children(item: Expr, warn: bool = True) -> list[Expr]:
        return [C.compile_path(p, item, replace(scope.env(f"{loc}[{i}]"), warn_unknown=warn))
                for i, p in enumerate(paths)]

    # Repeat paths are written for the nested levels (`answer.item`); at the focus some may not exist.
    first = [e for e in children(focus, warn=False) if e.type != C.EMPTY]
    if not first:
        return C.empty()
    types = {e.type for e in first}
    if len(types) > 1 or C.kind(first[0].type) != "complex":
        raise UnsupportedViewError(f"repeat over mixed or primitive types {sorted(types)}", loc)
    node = scope.tree.mark_recursive(first[0].type)
    element = Expr(F.lit(None), False, first[0].type, node)

    def concat(items: list[Expr]) -> Column:
        arrays = [F.coalesce(C.to_array(e), F.array()) for e in items if e.type != C.EMPTY]
        return arrays[0] if len(arrays) == 1 else F.concat(*arrays)

    def expand(arr: Column, depth: int) -> Column:
        # Depth-first, pre-order: each item, then everything below it.
        if depth == max_depth:
            deeper = F.exists(arr, lambda x: F.size(concat(children(element.item(x)))) > 0)
            message = F.lit(f"{RUNTIME_ERROR_PREFIX} repeat at {loc} is nested deeper than {depth} levels")
            return F.when(deeper, F.raise_error(message)).otherwise(arr)
        return F.flatten(F.transform(arr, lambda x: F.concat(
            F.array(x), F.coalesce(expand(concat(children(element.item(x))), depth + 1), F.array()))))

    return Expr(expand(concat(first), 1), True, first[0].type, node)
