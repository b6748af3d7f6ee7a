"""lowBoundary() / highBoundary(): the least and greatest values a decimal or partial date/time may stand for."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from spark_jobs.sof.compiler.exprs import EMPTY, Env, Expr, map_items
from spark_jobs.sof.errors import UnsupportedViewError
from spark_jobs.sof.schema import DECIMAL_TYPE

_TIME_RE = r"^(\d{2})(?::(\d{2}))?(?::(\d{2}))?(?:\.(\d+))?$"
_DATETIME_RE = r"^([0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?)(?:T([0-9:.]+))?(Z|[+-][0-9]{2}:[0-9]{2})?$"


def boundary(e: Expr, low: bool, env: Env) -> Expr:
    t = e.type
    if t == EMPTY:
        return e
    if t == "decimal" and e.raw_decimal:
        env.tree.decimal_text = True  # the JSON text must keep its digits (see CompiledView.apply)
        fn = _decimal_boundary
        out = "decimal"
    elif t in ("date", "dateTime", "instant", "time"):
        fn = {"date": _date_boundary, "time": _time_boundary}.get(t, _datetime_boundary)
        out = t
    else:
        raise UnsupportedViewError(f"{'low' if low else 'high'}Boundary() of type '{t}'", env.loc)
    return Expr(map_items(e, lambda c: fn(c, low)), e.many, out)


def _decimal_boundary(text: Column, low: bool) -> Column:
    # Half a unit of the last written digit: 1.0 -> [0.95, 1.05]; computed on the JSON text, exactly.
    digits = F.when(F.instr(text, ".") > 0, F.length(F.substring_index(text, ".", -1))).otherwise(0)
    half = F.concat(F.lit("0."), F.call_function("repeat", F.lit("0"), digits), F.lit("5")).cast(DECIMAL_TYPE)
    value = text.cast(DECIMAL_TYPE)
    return value - half if low else value + half


def _date_boundary(text: Column, low: bool) -> Column:
    if low:
        return (F.when(F.length(text) == 4, F.concat(text, F.lit("-01-01")))
                .when(F.length(text) == 7, F.concat(text, F.lit("-01"))).otherwise(text))
    month_end = F.date_format(F.last_day(F.to_date(F.concat(text, F.lit("-01")), "yyyy-MM-dd")), "yyyy-MM-dd")
    return (F.when(F.length(text) == 4, F.concat(text, F.lit("-12-31")))
            .when(F.length(text) == 7, month_end).otherwise(text))


def _time_boundary(text: Column, low: bool) -> Column:
    def part(i: int) -> Column:
        return F.regexp_extract(text, _TIME_RE, i)

    fill = "00" if low else "59"
    ms = F.rpad(part(4), 3, "0" if low else "9")
    minutes = F.when(part(2) == "", F.lit(fill)).otherwise(part(2))
    seconds = F.when(part(3) == "", F.lit(fill)).otherwise(part(3))
    out = F.concat_ws("", part(1), F.lit(":"), minutes, F.lit(":"), seconds, F.lit("."), ms)
    return F.when(F.regexp_like(text, F.lit(_TIME_RE)), out)


def _datetime_boundary(text: Column, low: bool) -> Column:
    # Unknown parts take their extreme: earliest instant at +14:00, latest at -12:00 (FHIRPath spec).
    date = _date_boundary(F.regexp_extract(text, _DATETIME_RE, 1), low)
    time = F.regexp_extract(text, _DATETIME_RE, 2)
    zone = F.regexp_extract(text, _DATETIME_RE, 3)
    clock = F.when(time == "", F.lit("00:00:00.000" if low else "23:59:59.999")).otherwise(
        _time_boundary(time, low))
    offset = F.when(zone == "", F.lit("+14:00" if low else "-12:00")).otherwise(zone)
    return F.when(F.regexp_like(text, F.lit(_DATETIME_RE)), F.concat(date, F.lit("T"), clock, offset))
