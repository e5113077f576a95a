//! Dynamic array and property-bag functions: `array_concat`, `array_slice`, `array_index_of`,
//! `array_sort_asc/desc`, `bag_keys`, `bag_merge`, `bag_remove_keys`, `set_union`,
//! `set_intersect`, `set_difference`, `zip`, `range`, and `gettype` of dynamic values.

use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Equality of dynamic elements: numbers compare by value (`1 == 1.0`), everything else exactly.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

fn push_distinct(out: &mut Vec<Value>, v: &Value) {
    if !out.iter().any(|x| json_eq(x, v)) {
        out.push(v.clone());
    }
}

/// The arrays of `values`, or `None` when one of them is not an array.
fn arrays(values: &[Value]) -> Option<Vec<&Vec<Value>>> {
    values
        .iter()
        .map(|v| match v {
            Value::Array(a) => Some(a),
            _ => None,
        })
        .collect()
}

pub fn array_concat(values: &[Value]) -> Option<Value> {
    let arrs = arrays(values)?;
    Some(Value::Array(arrs.into_iter().flatten().cloned().collect()))
}

/// `array_slice(arr, start, end)`: inclusive bounds, negative ones from the end, out-of-range
/// parts ignored.
pub fn array_slice(v: &Value, start: i64, end: i64) -> Option<Value> {
    let Value::Array(a) = v else { return None };
    let n = a.len() as i64;
    let s = if start < 0 { n + start } else { start }.max(0);
    let e = if end < 0 { n + end } else { end }.min(n - 1);
    if s > e || s >= n {
        return Some(Value::Array(Vec::new()));
    }
    Some(Value::Array(a[s as usize..=e as usize].to_vec()))
}

/// `array_index_of(arr, value, start, length, occurrence)`.
pub fn array_index_of(v: &Value, needle: &Value, start: i64, length: i64, occurrence: i64) -> Option<i64> {
    let Value::Array(a) = v else { return None };
    if occurrence < 0 || length < -1 {
        return None;
    }
    let n = a.len() as i64;
    let s = if start < 0 { (n + start).max(0) } else { start };
    let e = if length == -1 {
        n
    } else {
        (s.saturating_add(length)).min(n)
    };
    let mut seen = 0;
    let mut i = s;
    while i < e {
        if json_eq(&a[i as usize], needle) {
            seen += 1;
            if seen >= occurrence.max(1) {
                return Some(i);
            }
        }
        i += 1;
    }
    Some(-1)
}

pub fn bag_keys(v: &Value) -> Option<Value> {
    match v {
        Value::Object(m) => Some(Value::Array(m.keys().map(|k| Value::String(k.clone())).collect())),
        _ => None,
    }
}

/// `bag_merge(bag, ...)`: when a key repeats, the first bag's value is kept. Arguments that are
/// not property bags contribute nothing.
pub fn bag_merge(values: &[Value]) -> Value {
    let mut out = Map::new();
    for v in values {
        if let Value::Object(m) = v {
            for (k, x) in m {
                if !out.contains_key(k) {
                    out.insert(k.clone(), x.clone());
                }
            }
        }
    }
    Value::Object(out)
}

fn remove_path(m: &mut Map<String, Value>, path: &[&str]) {
    match path {
        [] => {}
        [last] => {
            m.remove(*last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Object(inner)) = m.get_mut(*first) {
                remove_path(inner, rest);
            }
        }
    }
}

/// `bag_remove_keys(bag, keys)`: top-level keys, or `$.a.b` JSONPath to nested ones.
pub fn bag_remove_keys(bag: &Value, keys: &Value) -> Option<Value> {
    let (Value::Object(m), Value::Array(ks)) = (bag, keys) else {
        return None;
    };
    let mut m = m.clone();
    for k in ks {
        let Value::String(k) = k else { continue };
        match k.strip_prefix("$.") {
            Some(path) => remove_path(&mut m, &path.split('.').collect::<Vec<_>>()),
            None => remove_path(&mut m, &[k.as_str()]),
        }
    }
    Some(Value::Object(m))
}

/// Sort class: numbers, then strings, then everything else.
fn class(v: &Value) -> u8 {
    match v {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        _ => 2,
    }
}

fn compare(a: &Value, b: &Value) -> Ordering {
    class(a).cmp(&class(b)).then_with(|| match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => x
                .as_f64()
                .unwrap_or(f64::NAN)
                .total_cmp(&y.as_f64().unwrap_or(f64::NAN)),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => Ordering::Equal,
    })
}

/// `array_sort_asc(arr[, nulls_last])` / `array_sort_desc`.
pub fn array_sort(v: &Value, asc: bool, nulls_last: bool) -> Option<Value> {
    let Value::Array(a) = v else { return None };
    let (nulls, mut items): (Vec<Value>, Vec<Value>) = a.iter().cloned().partition(Value::is_null);
    items.sort_by(|x, y| if asc { compare(x, y) } else { compare(y, x) });
    Some(Value::Array(if nulls_last {
        items.into_iter().chain(nulls).collect()
    } else {
        nulls.into_iter().chain(items).collect()
    }))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetOp {
    Union,
    Intersect,
    Difference,
}

/// `set_union` / `set_intersect` / `set_difference`: distinct values, in first-seen order.
pub fn set_op(op: SetOp, values: &[Value]) -> Option<Value> {
    let arrs = arrays(values)?;
    let mut out = Vec::new();
    match op {
        SetOp::Union => arrs
            .iter()
            .flat_map(|a| a.iter())
            .for_each(|v| push_distinct(&mut out, v)),
        SetOp::Intersect | SetOp::Difference => {
            let (first, rest) = arrs.split_first()?;
            for v in first.iter() {
                let in_others = rest.iter().map(|a| a.iter().any(|x| json_eq(x, v)));
                let keep = if op == SetOp::Intersect {
                    in_others.clone().all(|b| b)
                } else {
                    !in_others.clone().any(|b| b)
                };
                if keep {
                    push_distinct(&mut out, v);
                }
            }
        }
    }
    Some(Value::Array(out))
}

/// `zip(arr1, arr2, ...)`: arrays of the elements at each index (null where an array is shorter).
pub fn zip(values: &[Value]) -> Option<Value> {
    let arrs = arrays(values)?;
    let n = arrs.iter().map(|a| a.len()).max().unwrap_or(0);
    Some(Value::Array(
        (0..n)
            .map(|i| Value::Array(arrs.iter().map(|a| a.get(i).cloned().unwrap_or(Value::Null)).collect()))
            .collect(),
    ))
}

/// The most elements `range()` produces.
pub const RANGE_MAX: usize = 1 << 20;

/// `range(start, stop, step)` over longs.
pub fn range_long(start: i64, stop: i64, step: i64) -> Option<Vec<i64>> {
    if step == 0 {
        return None;
    }
    let mut out = Vec::new();
    let mut v = start;
    while (if step > 0 { v <= stop } else { v >= stop }) && out.len() < RANGE_MAX {
        out.push(v);
        match v.checked_add(step) {
            Some(n) => v = n,
            None => break,
        }
    }
    Some(out)
}

/// `range(start, stop, step)` over reals (each element `start + k * step`).
pub fn range_real(start: f64, stop: f64, step: f64) -> Option<Vec<f64>> {
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        return None;
    }
    let mut out = Vec::new();
    let mut k = 0.0;
    loop {
        let v = start + k * step;
        if (step > 0.0 && v > stop) || (step < 0.0 && v < stop) || out.len() >= RANGE_MAX {
            break;
        }
        out.push(v);
        k += 1.0;
    }
    Some(out)
}

/// `gettype()` of a dynamic value.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => "int",
            Some(_) => "long",
            None if n.as_u64().is_some() => "long",
            None => "real",
        },
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "dictionary",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn array_functions() {
        let a = json!(["this", "is", "an", "example", "an", "example"]);
        let idx = |v: &str, s, l, o| array_index_of(&a, &json!(v), s, l, o);
        assert_eq!(idx("an", 0, -1, 1), Some(2));
        assert_eq!(idx("example", 1, 3, 1), Some(3));
        assert_eq!(idx("example", 1, 2, 1), Some(-1));
        assert_eq!(idx("is", 2, 4, 1), Some(-1));
        assert_eq!(idx("an", 1, -1, 2), Some(4));
        assert_eq!(idx("an", -3, -1, 1), Some(4));
        assert_eq!(idx("is", -4, -1, 1), Some(-1));
        assert_eq!(array_slice(&json!([1, 2, 3, 4, 5]), -3, -2), Some(json!([3, 4])));
        assert_eq!(array_slice(&json!([1, 2, 3]), 5, 9), Some(json!([])));
        assert_eq!(
            array_sort(&json!([null, "b", 2, "a", 1]), true, true),
            Some(json!([1, 2, "a", "b", null]))
        );
        assert_eq!(
            set_op(SetOp::Difference, &[json!([1, 2, 1, 4]), json!([1, 2])]),
            Some(json!([4]))
        );
        assert_eq!(range_long(1, 8, 3), Some(vec![1, 4, 7]));
        assert_eq!(type_name(&json!(1)), "int");
    }
}
