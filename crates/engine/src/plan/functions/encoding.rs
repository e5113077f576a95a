//! Encodings and text formats: URL, base64, XML, CSV, paths, IPv4 text.

use super::ScalarCall;
use crate::functions::library::LibOp;
use crate::plan::call::lib;
use crate::plan::{PResult, Planner};
use datafusion::logical_expr::Expr;

/// `ipv4_is_private`, `parse_ipv4`, `parse_url`, `parse_urlquery`, `base64_decode_tostring`, `base64_encode_tostring`, `reverse`, `url_decode`, `url_encode`, `string_size`, `parseurl`, `parseurlquery`, `base64_decodestring`, `parse_xml`, `parse_csv`, `parse_path`, `base64_decode_toarray`.
pub(crate) fn lower_text_format(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let op = match n {
        "parse_xml" => LibOp::ParseXml,
        "parse_csv" => LibOp::ParseCsv,
        "parse_path" => LibOp::ParsePath,
        "base64_decode_toarray" => LibOp::Base64DecodeToArray,
        "parse_ipv4" => LibOp::ParseIpv4,
        "ipv4_is_private" => LibOp::Ipv4IsPrivate,
        "parse_url" | "parseurl" => LibOp::ParseUrl,
        "parse_urlquery" | "parseurlquery" => LibOp::ParseUrlQuery,
        "url_encode" => LibOp::UrlEncode,
        "url_decode" => LibOp::UrlDecode,
        "base64_encode_tostring" => LibOp::Base64Encode,
        "base64_decode_tostring" | "base64_decodestring" => LibOp::Base64Decode,
        "reverse" => LibOp::Reverse,
        _ => LibOp::StringSize,
    };
    let x = p.text(a.into_iter().next().expect("arity checked"));
    Ok(lib(n, op, vec![x]))
}

/// `base64_encode_fromarray`.
pub(crate) fn lower_base64_encode_fromarray(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let x = Planner::dynamic_arg(n, a.into_iter().next().expect("arity checked"))?;
    Ok(lib(n, LibOp::Base64EncodeFromArray, vec![x]))
}
