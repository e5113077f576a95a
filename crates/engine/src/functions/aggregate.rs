//! Aggregations that build `dynamic` values: `make_set`, `make_list` (and their `_if` forms via a
//! filtered argument), `make_bag`, `make_list_with_nulls` and `make_set_with_nulls`.
//!
//! An optional second argument is each row's position in serialized input: the values are then
//! collected in that order, whatever order the partitions deliver them in.

use super::dynamic::{json_at, parse_value};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, TypeSignature, Volatility};
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Collect {
    /// `make_list`: every value, in arrival order.
    List,
    /// `make_set`: distinct values.
    Set,
    /// `make_bag`: property bags merged into one.
    Bag,
    /// `make_list_with_nulls`: every value, nulls included.
    ListWithNulls,
    /// `make_set_with_nulls`: distinct values, null included.
    SetWithNulls,
}

impl Collect {
    fn keeps_nulls(self) -> bool {
        matches!(self, Collect::ListWithNulls | Collect::SetWithNulls)
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CollectUdaf {
    name: String,
    kind: Collect,
    /// At most this many elements (Kusto's default is 1,048,576).
    max: usize,
    signature: Signature,
}

impl CollectUdaf {
    pub fn new(name: &str, kind: Collect, max: usize) -> Self {
        CollectUdaf {
            name: name.to_string(),
            kind,
            max,
            signature: Signature::one_of(
                vec![TypeSignature::Any(1), TypeSignature::Any(2)],
                Volatility::Immutable,
            ),
        }
    }
}

impl AggregateUDFImpl for CollectUdaf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::LargeUtf8)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CollectAcc {
            kind: self.kind,
            max: self.max,
            items: Vec::new(),
            bag: serde_json::Map::new(),
            bytes: 0,
            ordered: (args.exprs.len() > 1).then(Vec::new),
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}_state", args.name),
            DataType::LargeUtf8,
            true,
        ))])
    }
}

#[derive(Debug)]
struct CollectAcc {
    kind: Collect,
    max: usize,
    items: Vec<Value>,
    bag: serde_json::Map<String, Value>,
    bytes: usize,
    /// With positions: every (position, value) seen, collected in position order at the end.
    ordered: Option<Vec<(i64, Value)>>,
}

impl CollectAcc {
    fn push(&mut self, v: Value) {
        match self.kind {
            Collect::Bag => {
                if let Value::Object(m) = v {
                    for (k, val) in m {
                        if self.bag.len() < self.max || self.bag.contains_key(&k) {
                            self.bytes += k.len() + 16;
                            self.bag.insert(k, val);
                        }
                    }
                }
            }
            _ if v.is_null() && !self.kind.keeps_nulls() => {}
            Collect::Set | Collect::SetWithNulls if self.items.contains(&v) => {}
            _ if self.items.len() >= self.max => {}
            _ => {
                self.bytes += 32;
                self.items.push(v);
            }
        }
    }

    /// The ordered values so far, pushed in position order.
    fn drain_ordered(&mut self) {
        if let Some(mut pairs) = self.ordered.take() {
            pairs.sort_by_key(|(p, _)| *p);
            for (_, v) in pairs {
                self.push(v);
            }
            self.ordered = Some(Vec::new());
        }
    }

    fn current(&self) -> Value {
        match self.kind {
            Collect::Bag => Value::Object(self.bag.clone()),
            _ => Value::Array(self.items.clone()),
        }
    }
}

impl Accumulator for CollectAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(a) = values.first() else { return Ok(()) };
        let pos = values.get(1).and_then(|p| p.as_primitive_opt::<Int64Type>());
        for i in 0..a.len() {
            if !a.is_null(i) || self.kind.keeps_nulls() {
                let v = json_at(a, i);
                match (&mut self.ordered, pos) {
                    (Some(pairs), Some(p)) => {
                        self.bytes += 48;
                        pairs.push((p.value(i), v));
                    }
                    _ => self.push(v),
                }
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.drain_ordered();
        Ok(ScalarValue::LargeUtf8(Some(self.current().to_string())))
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.bytes
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        // Ordered: the (position, value) pairs, so merging keeps the order.
        if let Some(pairs) = &self.ordered {
            let items: Vec<Value> = pairs
                .iter()
                .map(|(p, v)| Value::Array(vec![Value::from(*p), v.clone()]))
                .collect();
            return Ok(vec![ScalarValue::LargeUtf8(Some(Value::Array(items).to_string()))]);
        }
        Ok(vec![ScalarValue::LargeUtf8(Some(self.current().to_string()))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(a) = states.first() else { return Ok(()) };
        let a = a.as_string::<i64>();
        for i in 0..a.len() {
            if a.is_null(i) {
                continue;
            }
            if let Some(pairs) = &mut self.ordered {
                if let Value::Array(items) = parse_value(a.value(i)) {
                    for it in items {
                        if let Value::Array(mut pv) = it
                            && pv.len() == 2
                        {
                            let v = pv.pop().unwrap_or(Value::Null);
                            let p = pv.pop().and_then(|p| p.as_i64()).unwrap_or(i64::MAX);
                            self.bytes += 48;
                            pairs.push((p, v));
                        }
                    }
                }
                continue;
            }
            match parse_value(a.value(i)) {
                Value::Array(items) => items.into_iter().for_each(|v| self.push(v)),
                bag @ Value::Object(_) => self.push(bag),
                _ => {}
            }
        }
        Ok(())
    }
}
