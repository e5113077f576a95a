//! `percentile()` / `percentiles()`: the exact nearest-rank percentile Kusto's documentation
//! defines (Kusto itself estimates it with a t-digest; the exact value is within that estimate's
//! documented error bounds, and percentiles 0 and 100 are the exact minimum and maximum in both).
//!
//! Nearest rank: the P-th percentile (0 < P <= 100) of N ascending values is the value at rank
//! ceil(P / 100 * N); the 0-th percentile is the smallest value. Nulls are ignored.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};
use std::sync::Arc;

/// The rank (0-based index) of the `p`-th percentile among `n` sorted values.
pub fn nearest_rank(p: f64, n: usize) -> usize {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    let rank = (p / 100.0 * n as f64).ceil() as usize;
    rank.clamp(1, n) - 1
}

/// Percentile of one column; the planner casts the input to `Int64` (longs, ints, datetimes,
/// timespans) or `Float64` (reals) and the result back to the input's type.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PercentileUdaf {
    name: String,
    /// The percentile's bits (f64 has no Eq/Hash).
    p_bits: u64,
    real: bool,
    signature: Signature,
}

impl PercentileUdaf {
    pub fn new(name: &str, p: f64, real: bool) -> Self {
        PercentileUdaf {
            name: name.to_string(),
            p_bits: p.to_bits(),
            real,
            signature: Signature::any(1, Volatility::Immutable),
        }
    }

    fn item_type(&self) -> DataType {
        if self.real { DataType::Float64 } else { DataType::Int64 }
    }
}

impl AggregateUDFImpl for PercentileUdaf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.item_type())
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(PercentileAcc {
            p: f64::from_bits(self.p_bits),
            real: self.real,
            ints: Vec::new(),
            reals: Vec::new(),
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new_list(
            format!("{}_values", args.name),
            Field::new_list_field(self.item_type(), true),
            true,
        ))])
    }
}

#[derive(Debug)]
struct PercentileAcc {
    p: f64,
    real: bool,
    ints: Vec<i64>,
    reals: Vec<f64>,
}

impl PercentileAcc {
    fn add(&mut self, a: &ArrayRef) -> Result<()> {
        match a.data_type() {
            DataType::Int64 => {
                let a = a.as_primitive::<Int64Type>();
                self.ints.extend(a.iter().flatten());
            }
            DataType::Float64 => {
                let a = a.as_primitive::<Float64Type>();
                self.reals.extend(a.iter().flatten().filter(|f| !f.is_nan()));
            }
            DataType::Null => {}
            other => return exec_err!("percentile: unexpected input type {other}"),
        }
        Ok(())
    }
}

impl Accumulator for PercentileAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        match values.first() {
            Some(a) => self.add(a),
            None => Ok(()),
        }
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(if self.real {
            self.reals.sort_by(f64::total_cmp);
            let v = (!self.reals.is_empty()).then(|| self.reals[nearest_rank(self.p, self.reals.len())]);
            ScalarValue::Float64(v)
        } else {
            self.ints.sort_unstable();
            let v = (!self.ints.is_empty()).then(|| self.ints[nearest_rank(self.p, self.ints.len())]);
            ScalarValue::Int64(v)
        })
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.ints.capacity() * 8 + self.reals.capacity() * 8
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let items: Vec<ScalarValue> = if self.real {
            self.reals.iter().map(|f| ScalarValue::Float64(Some(*f))).collect()
        } else {
            self.ints.iter().map(|i| ScalarValue::Int64(Some(*i))).collect()
        };
        let dt = if self.real { DataType::Float64 } else { DataType::Int64 };
        Ok(vec![ScalarValue::List(ScalarValue::new_list_nullable(&items, &dt))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(s) = states.first() else { return Ok(()) };
        let lists = s.as_list::<i32>();
        for i in 0..lists.len() {
            if !lists.is_null(i) {
                self.add(&lists.value(i))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::nearest_rank;

    #[test]
    fn nearest_rank_definition() {
        // 10 values: P=50 → rank 5, P=95 → rank 10, P=0 → smallest, P=100 → largest.
        assert_eq!(nearest_rank(50.0, 10), 4);
        assert_eq!(nearest_rank(95.0, 10), 9);
        assert_eq!(nearest_rank(0.0, 10), 0);
        assert_eq!(nearest_rank(100.0, 10), 9);
        assert_eq!(nearest_rank(10.0, 10), 0);
        assert_eq!(nearest_rank(11.0, 10), 1);
    }
}
