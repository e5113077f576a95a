//! Date and time functions: `ago`, `now`, `startof...`/`endof...`, `datetime_add`/`diff`/`part`,
//! `format_datetime`, `make_datetime`, `make_timespan`, unix-time conversions.

use super::{ScalarCall, one};
use crate::functions::library::{LibOp, UnixUnit};
use crate::functions::scalar::{Part, ScalarOp};
use crate::functions::timefmt::{DtPart, parse_format};
use crate::plan::call::{binary, lib, scalar_fn};
use crate::plan::expr::constant_value;
use crate::plan::{PResult, Planner, err};
use crate::types::KqlType;
use crate::value::datetime_scalar;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, lit};

/// `ago`.
pub(crate) fn lower_ago(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { now, args: a, .. } = c;
    Ok(match constant_value(&a[0].e) {
        Some(ScalarValue::DurationNanosecond(Some(d))) => lit(datetime_scalar(Some(now - d))),
        _ if a[0].t == KqlType::Timespan => binary(
            lit(datetime_scalar(Some(now))),
            datafusion::logical_expr::Operator::Minus,
            one(a),
        ),
        _ => return Err(err(a[0].span, "ago() takes a timespan")),
    })
}

/// `now`.
pub(crate) fn lower_now(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { span, args: a, now, .. } = c;
    Ok(match a.first().map(|x| constant_value(&x.e)) {
        None => lit(datetime_scalar(Some(now))),
        Some(Some(ScalarValue::DurationNanosecond(Some(d)))) => lit(datetime_scalar(Some(now + d))),
        _ => return Err(err(span, "now() takes a constant timespan offset")),
    })
}

/// Tables here have no ingestion-time policy, and then Kusto's ingestion_time() is null.
pub(crate) fn lower_ingestion_time(_p: &mut Planner<'_>, _c: ScalarCall<'_>) -> PResult<Expr> {
    Ok(lit(datetime_scalar(None)))
}

/// `endofday`, `endofmonth`, `endofweek`, `endofyear`, `startofday`, `startofmonth`, `startofweek`, `startofyear`.
pub(crate) fn lower_start_end_of(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    if a[0].t != KqlType::Datetime {
        return Err(err(a[0].span, format!("{n}() takes a datetime")));
    }
    let part = match &n[n.len() - 3..] {
        "day" => Part::Day,
        "eek" => Part::Week,
        "nth" => Part::Month,
        _ => Part::Year,
    };
    let op = if n.starts_with("start") {
        ScalarOp::StartOf(part)
    } else {
        ScalarOp::EndOf(part)
    };
    let mut it = a.into_iter();
    let mut args = vec![it.next().expect("arity checked").e];
    if let Some(offset) = it.next() {
        args.push(Planner::long_arg(n, offset)?);
    }
    Ok(scalar_fn(n, op, args))
}

/// `dayofweek`.
pub(crate) fn lower_dayofweek(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    Ok(scalar_fn(n, ScalarOp::DayOfWeek, vec![one(a)]))
}

/// `dayofmonth`, `getmonth`, `getyear`, `hourofday`, `monthofyear`.
pub(crate) fn lower_date_part_of(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let part = match n {
        "hourofday" => Part::Hour,
        "getyear" => Part::Year,
        "dayofmonth" => Part::Day,
        _ => Part::Month,
    };
    Ok(scalar_fn(n, ScalarOp::DatePart(part), vec![one(a)]))
}

/// `datetime_add`, `datetime_diff`.
pub(crate) fn lower_datetime_diff_add(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let part_name = Planner::const_text(&a[0], "the date part")?;
    let part = Part::parse(&part_name).ok_or_else(|| err(a[0].span, format!("unknown date part `{part_name}`")))?;
    let mut it = a.into_iter().skip(1);
    let (x, y) = (it.next().expect("3").e, it.next().expect("3").e);
    let op = if n == "datetime_diff" {
        ScalarOp::DatetimeDiff(part)
    } else {
        ScalarOp::DatetimeAdd(part)
    };
    Ok(scalar_fn(n, op, vec![x, y]))
}

/// `format_datetime`, `format_timespan`.
pub(crate) fn lower_format_date_or_time(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let timespan = n == "format_timespan";
    let want = if timespan { KqlType::Timespan } else { KqlType::Datetime };
    if a[0].t != want {
        return Err(err(a[0].span, format!("{n}() takes a {want}, not {}", a[0].t)));
    }
    let fmt = Planner::const_text(&a[1], "the format")?;
    let items = parse_format(&fmt, timespan).map_err(|m| err(a[1].span, m))?;
    let op = if timespan {
        LibOp::FormatTimespan(items)
    } else {
        LibOp::FormatDatetime(items)
    };
    Ok(lib(n, op, vec![one(a)]))
}

/// `make_datetime`.
pub(crate) fn lower_make_datetime(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    if !matches!(a.len(), 3 | 5 | 6) {
        return Err(err(
            name.span,
            "make_datetime() takes (year, month, day), (year, month, day, hour, minute) or (year, month, day, hour, minute, second)",
        ));
    }
    let k = a.len();
    let mut args = Vec::new();
    for (i, x) in a.into_iter().enumerate() {
        args.push(if i == 5 {
            Planner::real_arg(n, x)?
        } else {
            Planner::long_arg(n, x)?
        });
    }
    if k == 3 {
        args.extend([lit(0i64), lit(0i64)]);
    }
    if k < 6 {
        args.push(lit(0.0f64));
    }
    Ok(lib(n, LibOp::MakeDatetime, args))
}

/// `make_timespan`.
pub(crate) fn lower_make_timespan(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let k = a.len();
    let mut args = Vec::new();
    for (i, x) in a.into_iter().enumerate() {
        // The last argument of the 3- and 4-argument forms is the (real) seconds.
        args.push(if k > 2 && i == k - 1 {
            Planner::real_arg(n, x)?
        } else {
            Planner::long_arg(n, x)?
        });
    }
    // (hour, minute) / (hour, minute, second) / (day, hour, minute, second)
    if k < 4 {
        args.insert(0, lit(0i64));
    }
    if k == 2 {
        args.push(lit(0.0f64));
    }
    Ok(lib(n, LibOp::MakeTimespan, args))
}

/// `datetime_part`, `datepart`.
pub(crate) fn lower_datetime_part(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let part_name = Planner::const_text(&a[0], "the date part")?;
    let part = DtPart::parse(&part_name).ok_or_else(|| {
        err(
            a[0].span,
            format!("unknown or unsupported date part `{part_name}` (year, quarter, month, week_of_year, day, dayofyear, hour, minute, second, millisecond, microsecond, nanosecond)"),
        )
    })?;
    if a[1].t != KqlType::Datetime {
        return Err(err(a[1].span, format!("{n}() takes a datetime, not {}", a[1].t)));
    }
    Ok(lib(
        n,
        LibOp::DatetimePart(part),
        vec![a.into_iter().nth(1).expect("arity").e],
    ))
}

/// `week_of_year`, `dayofyear`.
pub(crate) fn lower_day_or_week_of_year(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    if a[0].t != KqlType::Datetime {
        return Err(err(a[0].span, format!("{n}() takes a datetime, not {}", a[0].t)));
    }
    let part = if n == "dayofyear" {
        DtPart::DayOfYear
    } else {
        DtPart::WeekOfYear
    };
    Ok(lib(n, LibOp::DatetimePart(part), vec![one(a)]))
}

/// `unixtime_seconds_todatetime`, `unixtime_milliseconds_todatetime`.
pub(crate) fn lower_unixtime_todatetime(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let unit = if n.contains("milli") {
        UnixUnit::Milliseconds
    } else {
        UnixUnit::Seconds
    };
    let x = Planner::real_arg(n, a.into_iter().next().expect("arity"))?;
    Ok(lib(n, LibOp::UnixTime(unit), vec![x]))
}
