//! The one table of built-in functions: for each name its aliases, kind (scalar, aggregate,
//! window or known but unsupported), argument count, result-column naming rule and lowering.
//! The name lists the planner needs (aggregations, window functions, "did you mean"
//! candidates, naming rules) and the dispatch of a call are all read from [`FUNCTIONS`].

use super::{AggregateCall, ScalarCall, aggregate, conditional, conversion, datetime, dynamic, encoding, hash, ip};
use super::{math, series, special, string};
use crate::plan::call::A;
use crate::plan::{PResult, Planner};
use datafusion::common::DFSchemaRef;
use datafusion::logical_expr::Expr;
use kql::{Arg, Ident, Span};
use std::collections::HashMap;
use std::sync::LazyLock;

/// Lowers a scalar call from its lowered arguments.
pub(crate) type ScalarLowering = fn(&mut Planner<'_>, ScalarCall<'_>) -> PResult<Expr>;
/// Lowers a scalar call from its unlowered arguments (a tabular expression, a column name).
pub(crate) type RawLowering = fn(&mut Planner<'_>, &Ident, &[Arg], Span, &DFSchemaRef) -> PResult<Expr>;
/// Lowers an aggregation from its lowered arguments: the aggregates and their column names.
pub(crate) type AggregateLowering = fn(&mut Planner<'_>, &AggregateCall<'_>, Vec<A>) -> PResult<Vec<(Expr, String)>>;
/// Lowers an aggregation from its unlowered arguments (`arg_max(x, *)`, `take_any(*)`).
pub(crate) type RawAggregateLowering = fn(&mut Planner<'_>, &AggregateCall<'_>) -> PResult<Vec<(Expr, String)>>;

/// How a function is lowered.
#[derive(Clone, Copy)]
pub(crate) enum Lowering {
    Scalar(ScalarLowering),
    Raw(RawLowering),
    Aggregate(AggregateLowering),
    RawAggregate(RawAggregateLowering),
    /// A window function: lowered by the operators that allow one (plan::window).
    Window,
    /// A Kusto scalar function this engine does not run.
    Unsupported,
    /// A Kusto aggregation this engine does not run.
    UnsupportedAggregate,
}

/// What kind of function a name is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Scalar,
    Aggregate,
    Window,
    Unsupported,
}

/// The column name Kusto gives an unnamed call of the function (extend, project, summarize
/// by), following the result-name kinds of Microsoft's KQL analyzer (Kusto.Language).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Naming {
    /// `Column1`, `Column2`, ...
    Column,
    /// The first argument's name (`tostring(x)` gives `x`).
    FirstArgument,
    /// The first argument's name when it is the only argument.
    OnlyArgument,
    /// The function and the first argument's name (`strlen(x)` gives `strlen_x`).
    FunctionAndFirstArgument,
}

/// One built-in function.
pub(crate) struct FunctionSpec {
    pub(crate) name: &'static str,
    /// Other names of the same function (same lowering, arity and naming).
    pub(crate) aliases: &'static [&'static str],
    /// The argument count checked before lowering (`None`: the lowering checks it, with its
    /// own message).
    pub(crate) arity: Option<(usize, usize)>,
    pub(crate) naming: Naming,
    pub(crate) lowering: Lowering,
}

impl FunctionSpec {
    const fn new(name: &'static str, lowering: Lowering) -> Self {
        FunctionSpec {
            name,
            aliases: &[],
            arity: None,
            naming: Naming::Column,
            lowering,
        }
    }

    const fn aliases(self, aliases: &'static [&'static str]) -> Self {
        FunctionSpec { aliases, ..self }
    }

    const fn arity(self, min: usize, max: usize) -> Self {
        FunctionSpec {
            arity: Some((min, max)),
            ..self
        }
    }

    const fn named(self, naming: Naming) -> Self {
        FunctionSpec { naming, ..self }
    }

    pub(crate) fn kind(&self) -> Kind {
        match self.lowering {
            Lowering::Scalar(_) | Lowering::Raw(_) => Kind::Scalar,
            Lowering::Aggregate(_) | Lowering::RawAggregate(_) => Kind::Aggregate,
            Lowering::Window => Kind::Window,
            Lowering::Unsupported | Lowering::UnsupportedAggregate => Kind::Unsupported,
        }
    }

    fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

const fn scalar(name: &'static str, f: ScalarLowering) -> FunctionSpec {
    FunctionSpec::new(name, Lowering::Scalar(f))
}

const fn raw(name: &'static str, f: RawLowering) -> FunctionSpec {
    FunctionSpec::new(name, Lowering::Raw(f))
}

const fn aggregate(name: &'static str, f: AggregateLowering) -> FunctionSpec {
    FunctionSpec::new(name, Lowering::Aggregate(f))
}

const fn raw_aggregate(name: &'static str, f: RawAggregateLowering) -> FunctionSpec {
    FunctionSpec::new(name, Lowering::RawAggregate(f))
}

const fn window(name: &'static str) -> FunctionSpec {
    FunctionSpec::new(name, Lowering::Window)
}

const fn unsupported(name: &'static str) -> FunctionSpec {
    FunctionSpec::new(name, Lowering::Unsupported)
}

const fn unsupported_aggregate(name: &'static str) -> FunctionSpec {
    FunctionSpec::new(name, Lowering::UnsupportedAggregate)
}

/// Every built-in function name the planner knows, run or not.
pub(crate) static FUNCTIONS: &[FunctionSpec] = &[
    scalar("strcat_array", string::lower_strcat_array).arity(2, 2),
    scalar("tohex", conversion::lower_tohex)
        .arity(1, 2)
        .named(Naming::FirstArgument),
    scalar("hash", hash::lower_hash).arity(1, 2),
    scalar("hash_xxhash64", hash::lower_hash).arity(1, 2),
    scalar("dynamic_to_json", conversion::lower_dynamic_to_json).arity(1, 1),
    scalar("toboolean", conversion::lower_convert)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("has_any_ipv4_prefix", ip::lower_ipv4_prefix),
    scalar("has_ipv4_prefix", ip::lower_ipv4_prefix),
    scalar("unicode_codepoints_to_string", string::lower_codepoints_to_string).arity(1, 64),
    scalar("make_string", string::lower_codepoints_to_string).arity(1, 64),
    scalar("unicode_codepoints_from_string", string::lower_codepoints_from_string).arity(1, 1),
    scalar("to_utf8", string::lower_codepoints_from_string).arity(1, 1),
    scalar("parse_command_line", string::lower_parse_command_line).arity(2, 2),
    scalar("geo_info_from_ip_address", ip::lower_geo_info_from_ip_address).arity(1, 1),
    scalar("ingestion_time", datetime::lower_ingestion_time).arity(0, 0),
    scalar("extractjson", dynamic::lower_extractjson)
        .aliases(&["extract_json"])
        .arity(2, 2),
    scalar("arraylength", dynamic::lower_arraylength).arity(1, 1),
    scalar("pack_dictionary", dynamic::lower_pack_dictionary),
    scalar("abs", math::lower_math).named(Naming::FirstArgument),
    scalar("ago", datetime::lower_ago).arity(1, 1),
    scalar("array_length", dynamic::lower_array_length).arity(1, 1),
    aggregate("avg", aggregate::lower_simple_aggregate).arity(1, 1),
    aggregate("avgif", aggregate::lower_conditional_aggregate).arity(2, 2),
    scalar("bag_pack", dynamic::lower_bag_pack),
    scalar("bin", math::lower_bin).named(Naming::FirstArgument),
    scalar("case", conditional::lower_case),
    scalar("ceiling", math::lower_math).named(Naming::FirstArgument),
    scalar("coalesce", conditional::lower_coalesce),
    raw("column_ifexists", special::lower_column_ifexists),
    raw("columnifexists", special::lower_column_ifexists),
    aggregate("count", aggregate::lower_count),
    aggregate("countif", aggregate::lower_countif).arity(1, 1),
    scalar("datetime_add", datetime::lower_datetime_diff_add).arity(3, 3),
    scalar("datetime_diff", datetime::lower_datetime_diff_add).arity(3, 3),
    scalar("dayofmonth", datetime::lower_date_part_of),
    scalar("dayofweek", datetime::lower_dayofweek),
    aggregate("dcount", aggregate::lower_dcount).arity(1, 2),
    aggregate("dcountif", aggregate::lower_dcountif).arity(2, 3),
    scalar("endofday", datetime::lower_start_end_of).arity(1, 2),
    scalar("endofmonth", datetime::lower_start_end_of).arity(1, 2),
    scalar("endofweek", datetime::lower_start_end_of).arity(1, 2),
    scalar("endofyear", datetime::lower_start_end_of).arity(1, 2),
    scalar("exp", math::lower_math).named(Naming::FirstArgument),
    scalar("extract", string::lower_extract).arity(3, 4),
    scalar("floor", math::lower_floor).named(Naming::FirstArgument),
    scalar("getmonth", datetime::lower_date_part_of),
    scalar("getyear", datetime::lower_date_part_of),
    scalar("hourofday", datetime::lower_date_part_of),
    scalar("iff", conditional::lower_iff).aliases(&["iif"]).arity(3, 3),
    scalar("isempty", conditional::lower_emptiness).arity(1, 1),
    scalar("isnotempty", conditional::lower_emptiness).arity(1, 1),
    scalar("notempty", conditional::lower_emptiness).arity(1, 1),
    scalar("isnotnull", conditional::lower_is_not_null).aliases(&["notnull"]),
    scalar("isnull", conditional::lower_is_null),
    scalar("log", math::lower_math).named(Naming::FirstArgument),
    scalar("log10", math::lower_math).named(Naming::FirstArgument),
    aggregate("make_bag", aggregate::lower_make_bag).arity(1, 2),
    aggregate("make_list", aggregate::lower_make_collection).arity(1, 2),
    aggregate("make_list_if", aggregate::lower_make_collection_if).arity(2, 3),
    aggregate("make_set", aggregate::lower_make_collection).arity(1, 2),
    aggregate("make_set_if", aggregate::lower_make_collection_if).arity(2, 3),
    aggregate("makelist", aggregate::lower_make_collection).arity(1, 2),
    aggregate("makeset", aggregate::lower_make_collection).arity(1, 2),
    aggregate("max", aggregate::lower_simple_aggregate).arity(1, 1),
    scalar("max_of", math::lower_min_max_of),
    aggregate("maxif", aggregate::lower_conditional_aggregate).arity(2, 2),
    aggregate("min", aggregate::lower_simple_aggregate).arity(1, 1),
    scalar("min_of", math::lower_min_max_of),
    aggregate("minif", aggregate::lower_conditional_aggregate).arity(2, 2),
    scalar("monthofyear", datetime::lower_date_part_of),
    scalar("not", conditional::lower_not).arity(1, 1),
    scalar("now", datetime::lower_now).arity(0, 1),
    scalar("pack", dynamic::lower_bag_pack),
    scalar("pack_array", dynamic::lower_pack_array),
    scalar("parse_json", conversion::lower_to_dynamic)
        .aliases(&["parsejson", "todynamic", "toobject"])
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("pow", math::lower_math).named(Naming::FirstArgument),
    scalar("replace", string::lower_replace).arity(3, 3),
    scalar("replace_regex", string::lower_replace).arity(3, 3),
    scalar("replace_string", string::lower_replace).arity(3, 3),
    scalar("round", math::lower_math).named(Naming::FirstArgument),
    scalar("set_has_element", dynamic::lower_set_has_element).arity(2, 2),
    scalar("split", string::lower_split)
        .arity(2, 3)
        .named(Naming::FirstArgument),
    scalar("sqrt", math::lower_math).named(Naming::FirstArgument),
    scalar("startofday", datetime::lower_start_end_of)
        .arity(1, 2)
        .named(Naming::FirstArgument),
    scalar("startofmonth", datetime::lower_start_end_of).arity(1, 2),
    scalar("startofweek", datetime::lower_start_end_of).arity(1, 2),
    scalar("startofyear", datetime::lower_start_end_of).arity(1, 2),
    aggregate("stdev", aggregate::lower_simple_aggregate).arity(1, 1),
    scalar("strcat", string::lower_strcat),
    scalar("strcat_delim", string::lower_strcat_delim),
    scalar("strlen", string::lower_strlen).named(Naming::FunctionAndFirstArgument),
    scalar("substring", string::lower_substring),
    aggregate("sum", aggregate::lower_simple_aggregate).arity(1, 1),
    aggregate("sumif", aggregate::lower_conditional_aggregate).arity(2, 2),
    raw_aggregate("take_any", aggregate::lower_any),
    raw_aggregate("any", aggregate::lower_any),
    scalar("tobool", conversion::lower_convert)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("todatetime", conversion::lower_convert)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("todouble", conversion::lower_convert)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("toint", conversion::lower_convert)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("tolong", conversion::lower_convert)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("tolower", string::lower_tolower),
    scalar("toreal", conversion::lower_convert)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    raw("toscalar", special::lower_toscalar),
    scalar("tostring", conversion::lower_tostring)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("totimespan", conversion::lower_convert)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("toupper", string::lower_toupper),
    scalar("trim", string::lower_trim).arity(2, 2),
    scalar("trim_end", string::lower_trim).arity(2, 2),
    scalar("trim_start", string::lower_trim).arity(2, 2),
    aggregate("variance", aggregate::lower_simple_aggregate).arity(1, 1),
    raw_aggregate("arg_max", aggregate::lower_arg_max),
    raw_aggregate("arg_min", aggregate::lower_arg_max),
    unsupported("isascii"),
    scalar("indexof", string::lower_indexof).arity(2, 5),
    scalar("extract_all", string::lower_extract_all).arity(2, 3),
    scalar("extractall", string::lower_extract_all).arity(2, 3),
    scalar("ipv4_is_private", encoding::lower_text_format).arity(1, 1),
    scalar("ipv4_is_in_range", ip::lower_ipv4_range_match),
    scalar("ipv4_is_match", ip::lower_ipv4_range_match),
    scalar("parse_ipv4", encoding::lower_text_format).arity(1, 1),
    scalar("parse_url", encoding::lower_text_format).arity(1, 1),
    scalar("parse_urlquery", encoding::lower_text_format).arity(1, 1),
    scalar("base64_decode_tostring", encoding::lower_text_format).arity(1, 1),
    scalar("base64_encode_tostring", encoding::lower_text_format).arity(1, 1),
    scalar("format_datetime", datetime::lower_format_date_or_time)
        .arity(2, 2)
        .named(Naming::FirstArgument),
    scalar("format_timespan", datetime::lower_format_date_or_time)
        .arity(2, 2)
        .named(Naming::FirstArgument),
    scalar("countof", string::lower_countof).arity(2, 3),
    scalar("reverse", encoding::lower_text_format).arity(1, 1),
    scalar("array_concat", dynamic::lower_array_set_op),
    scalar("array_slice", dynamic::lower_array_slice).arity(3, 3),
    scalar("array_index_of", dynamic::lower_array_index_of).arity(2, 5),
    scalar("array_sort_asc", dynamic::lower_array_sort),
    scalar("array_sort_desc", dynamic::lower_array_sort),
    scalar("bag_keys", dynamic::lower_bag_keys).arity(1, 1),
    scalar("bag_merge", dynamic::lower_array_set_op),
    scalar("bag_remove_keys", dynamic::lower_bag_remove_keys).arity(2, 2),
    scalar("range", dynamic::lower_range).arity(2, 3),
    scalar("make_datetime", datetime::lower_make_datetime).named(Naming::OnlyArgument),
    scalar("make_timespan", datetime::lower_make_timespan)
        .arity(2, 4)
        .named(Naming::OnlyArgument),
    scalar("datetime_part", datetime::lower_datetime_part).arity(2, 2),
    scalar("unixtime_seconds_todatetime", datetime::lower_unixtime_todatetime).arity(1, 1),
    scalar("unixtime_milliseconds_todatetime", datetime::lower_unixtime_todatetime).arity(1, 1),
    scalar("gettype", conversion::lower_gettype).arity(1, 1),
    scalar("url_decode", encoding::lower_text_format).arity(1, 1),
    scalar("url_encode", encoding::lower_text_format).arity(1, 1),
    scalar("zip", dynamic::lower_array_set_op),
    scalar("strrep", string::lower_strrep).arity(2, 3),
    scalar("string_size", encoding::lower_text_format)
        .arity(1, 1)
        .named(Naming::FunctionAndFirstArgument),
    scalar("translate", string::lower_translate).arity(3, 3),
    scalar("set_union", dynamic::lower_array_set_op),
    scalar("set_intersect", dynamic::lower_array_set_op),
    scalar("set_difference", dynamic::lower_array_set_op),
    scalar("week_of_year", datetime::lower_day_or_week_of_year).arity(1, 1),
    scalar("dayofyear", datetime::lower_day_or_week_of_year).arity(1, 1),
    scalar("exp2", math::lower_float_math)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("exp10", math::lower_float_math)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("log2", math::lower_float_math)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("sign", math::lower_float_math).arity(1, 1),
    scalar("isfinite", math::lower_float_math).arity(1, 1),
    scalar("isnan", math::lower_float_math).arity(1, 1),
    scalar("isinf", math::lower_float_math).arity(1, 1),
    scalar("pi", math::lower_pi).arity(0, 0),
    scalar("parseurl", encoding::lower_text_format).arity(1, 1),
    scalar("parseurlquery", encoding::lower_text_format).arity(1, 1),
    scalar("base64_decodestring", encoding::lower_text_format).arity(1, 1),
    scalar("datepart", datetime::lower_datetime_part).arity(2, 2),
    scalar("parse_xml", encoding::lower_text_format)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("parse_csv", encoding::lower_text_format)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("parse_path", encoding::lower_text_format).arity(1, 1),
    scalar("base64_decode_toarray", encoding::lower_text_format).arity(1, 1),
    scalar("base64_encode_fromarray", encoding::lower_base64_encode_fromarray).arity(1, 1),
    scalar("binary_and", math::lower_bitwise).named(Naming::FirstArgument),
    scalar("binary_or", math::lower_bitwise).named(Naming::FirstArgument),
    scalar("binary_xor", math::lower_bitwise).named(Naming::FirstArgument),
    scalar("binary_not", math::lower_bitwise).named(Naming::FirstArgument),
    scalar("binary_shift_left", math::lower_bitwise).named(Naming::FirstArgument),
    scalar("binary_shift_right", math::lower_bitwise).named(Naming::FirstArgument),
    scalar("bitset_count_ones", math::lower_bitwise).named(Naming::FirstArgument),
    scalar("toguid", conversion::lower_convert)
        .arity(1, 1)
        .named(Naming::FirstArgument),
    scalar("toarray", conversion::lower_to_dynamic).arity(1, 1),
    aggregate("stdevp", aggregate::lower_population_spread).arity(1, 1),
    aggregate("variancep", aggregate::lower_population_spread).arity(1, 1),
    aggregate("count_distinct", aggregate::lower_count_distinct).arity(1, 1),
    aggregate("make_list_with_nulls", aggregate::lower_make_collection_with_nulls).arity(1, 2),
    aggregate("make_set_with_nulls", aggregate::lower_make_collection_with_nulls).arity(1, 2),
    aggregate("percentile", aggregate::lower_percentile),
    aggregate("percentiles", aggregate::lower_percentile),
    raw_aggregate("argmax", aggregate::lower_arg_max),
    raw_aggregate("argmin", aggregate::lower_arg_max),
    scalar("series_fit_line", series::lower_multi_value),
    scalar("series_fit_2lines", series::lower_multi_value),
    scalar("series_decompose", series::lower_multi_value),
    scalar("series_decompose_anomalies", series::lower_multi_value),
    window("row_number"),
    window("prev"),
    window("next"),
    window("row_window_session"),
    unsupported("parse_ipv4_mask"),
    unsupported("ipv6_is_match"),
    unsupported("parse_user_agent"),
    unsupported("hash_md5"),
    unsupported("hash_sha256"),
    unsupported("hash_sha1"),
    unsupported("series_stats"),
    unsupported("todecimal").named(Naming::FirstArgument),
    unsupported("isutf8"),
    unsupported("current_cluster_endpoint"),
    unsupported("cursor_after"),
    unsupported("rand"),
    unsupported("new_guid"),
    unsupported("toscalar_with_ttl"),
    unsupported("has_any_index"),
    unsupported("weekofyear"),
    unsupported("acos").named(Naming::FirstArgument),
    unsupported("asin").named(Naming::FirstArgument),
    unsupported("atan").named(Naming::FirstArgument),
    unsupported("atan2").named(Naming::FirstArgument),
    unsupported("bin_at").named(Naming::FirstArgument),
    unsupported("cos").named(Naming::FirstArgument),
    unsupported("format_bytes").named(Naming::FirstArgument),
    unsupported("gamma").named(Naming::FirstArgument),
    unsupported("loggamma").named(Naming::FirstArgument),
    unsupported("series_fill_backward").named(Naming::FirstArgument),
    unsupported("series_fill_const").named(Naming::FirstArgument),
    unsupported("series_fill_forward").named(Naming::FirstArgument),
    unsupported("series_fill_linear").named(Naming::FirstArgument),
    unsupported("series_fir").named(Naming::FirstArgument),
    unsupported("series_iir").named(Naming::FirstArgument),
    unsupported("series_outliers").named(Naming::FirstArgument),
    unsupported("sin").named(Naming::FirstArgument),
    unsupported("tan").named(Naming::FirstArgument),
    unsupported("totime").named(Naming::FirstArgument),
    unsupported_aggregate("percentilew"),
    unsupported_aggregate("percentiles_array"),
    unsupported_aggregate("tdigest"),
    unsupported_aggregate("hll"),
    unsupported_aggregate("hll_merge"),
    unsupported_aggregate("dcount_hll"),
    unsupported_aggregate("binary_all_and"),
    unsupported_aggregate("binary_all_or"),
    unsupported_aggregate("buildschema"),
    unsupported_aggregate("count_distinctif"),
    unsupported_aggregate("avg_if"),
];

static INDEX: LazyLock<HashMap<&'static str, &'static FunctionSpec>> =
    LazyLock::new(|| FUNCTIONS.iter().flat_map(|s| s.names().map(move |n| (n, s))).collect());

/// The function called `name` (or one of its aliases).
pub(crate) fn spec(name: &str) -> Option<&'static FunctionSpec> {
    INDEX.get(name).copied()
}

fn kind_of(name: &str) -> Option<Kind> {
    spec(name).map(FunctionSpec::kind)
}

/// Whether `name` is an aggregation this engine runs (valid only in summarize and friends).
pub(crate) fn is_aggregate(name: &str) -> bool {
    kind_of(name) == Some(Kind::Aggregate)
}

/// Whether `name` is a window function (row_number, prev, next, row_window_session).
pub(crate) fn is_window(name: &str) -> bool {
    kind_of(name) == Some(Kind::Window)
}

/// How an unnamed call of `name` names its result column.
pub(crate) fn naming(name: &str) -> Naming {
    spec(name).map_or(Naming::Column, |s| s.naming)
}

/// The names of the functions this engine runs (the "did you mean" candidates).
pub(crate) fn function_names<'a>() -> impl Iterator<Item = &'a str> {
    FUNCTIONS
        .iter()
        .filter(|s| s.kind() != Kind::Unsupported)
        .flat_map(FunctionSpec::names)
        .map(|n: &'static str| -> &'a str { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let all: Vec<&str> = FUNCTIONS.iter().flat_map(FunctionSpec::names).collect();
        assert_eq!(INDEX.len(), all.len(), "a name is listed twice");
    }

    #[test]
    fn kinds() {
        assert!(is_aggregate("count") && is_aggregate("argmax") && !is_aggregate("tostring"));
        assert!(is_window("prev") && !is_window("count"));
        assert_eq!(kind_of("isascii"), Some(Kind::Unsupported));
        assert_eq!(kind_of("tdigest"), Some(Kind::Unsupported));
        assert!(function_names().any(|n| n == "toguid") && !function_names().any(|n| n == "isascii"));
        assert_eq!(naming("tostring"), Naming::FirstArgument);
        assert_eq!(naming("make_datetime"), Naming::OnlyArgument);
        assert_eq!(naming("strlen"), Naming::FunctionAndFirstArgument);
        assert_eq!(naming("strcat"), Naming::Column);
    }
}
