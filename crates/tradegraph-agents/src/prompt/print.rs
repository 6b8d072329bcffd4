//! A value's serialization as bytes, for telling whether two values of a prompt context's
//! field convert to the same template value without converting them: each call `Serialize`
//! makes (its kind, numbers to the bit, text, names and order), tagged and delimited, so no
//! two call sequences write the same bytes. Integer widths are merged (an `i8` and an `i64`
//! print alike) and length hints are left out, as the template engine's conversion does: it
//! too makes every signed integer an `i64`, every unsigned one a `u64`, and ignores the hints.
//! Values that print apart (`None` and `NaN`, `1` and `1.0`, `0.0` and `-0.0`, a field
//! skipped or written) may convert apart. JSON cannot serve: it prints `None`, `NaN` and the
//! infinities alike as `null`.
//!
//! Two assumptions hold it: both serializers are human-readable (serde's default, which
//! neither changes), so a type serializes the same way for each; and no context field holds a
//! template value itself, which the engine's conversion would take as it is rather than
//! through its calls.

use serde::ser::{self, Serialize};
use std::fmt;

/// Appends the calls `value`'s serialization makes to `out`; `false` when the serialization
/// fails (a custom error of the value's own, then `out` is not to be used).
pub(crate) fn print<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> bool {
    value.serialize(Printer(out)).is_ok()
}

// One tag byte per call; compounds open with their tag, mark each element and close with END,
// strings carry their length: no two call sequences write the same bytes.
const BOOL: u8 = 1;
const I64: u8 = 2;
const U64: u8 = 3;
const I128: u8 = 4;
const U128: u8 = 5;
const F32: u8 = 6;
const F64: u8 = 7;
const CHAR: u8 = 8;
const STR: u8 = 9;
const BYTES: u8 = 10;
const NONE: u8 = 11;
const SOME: u8 = 12;
const UNIT: u8 = 13;
const UNIT_STRUCT: u8 = 14;
const UNIT_VARIANT: u8 = 15;
const NEWTYPE_STRUCT: u8 = 16;
const NEWTYPE_VARIANT: u8 = 17;
const SEQ: u8 = 18;
const TUPLE: u8 = 19;
const TUPLE_STRUCT: u8 = 20;
const TUPLE_VARIANT: u8 = 21;
const MAP: u8 = 22;
const STRUCT: u8 = 23;
const STRUCT_VARIANT: u8 = 24;
const ELEMENT: u8 = 25;
const KEY: u8 = 26;
const VALUE: u8 = 27;
const FIELD: u8 = 28;
const SKIPPED: u8 = 29;
const END: u8 = 30;

/// A value's own serialization error (the bytes are then not used).
#[derive(Debug)]
pub(crate) struct Failed;

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the value did not serialize")
    }
}

impl std::error::Error for Failed {}

impl ser::Error for Failed {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Failed
    }
}

struct Printer<'a>(&'a mut Vec<u8>);

impl Printer<'_> {
    fn tag(&mut self, tag: u8) {
        self.0.push(tag);
    }
    fn text(&mut self, text: &[u8]) {
        self.0.extend_from_slice(&text.len().to_le_bytes());
        self.0.extend_from_slice(text);
    }
    fn variant(&mut self, tag: u8, name: &str, index: u32, variant: &str) {
        self.tag(tag);
        self.text(name.as_bytes());
        self.0.extend_from_slice(&index.to_le_bytes());
        self.text(variant.as_bytes());
    }
    /// Opens a compound: its tag, and its type's name when it has one.
    fn open(mut self, tag: u8, name: Option<&str>) -> Result<Self, Failed> {
        self.tag(tag);
        if let Some(name) = name {
            self.text(name.as_bytes());
        }
        Ok(self)
    }
    fn again(&mut self) -> Printer<'_> {
        Printer(self.0)
    }
}

macro_rules! scalar {
    ($($method:ident: $ty:ty => $tag:ident as $wide:ty),* $(,)?) => {$(
        fn $method(mut self, v: $ty) -> Result<(), Failed> {
            self.tag($tag);
            self.0.extend_from_slice(&<$wide>::from(v).to_le_bytes());
            Ok(())
        }
    )*};
}

impl ser::Serializer for Printer<'_> {
    type Ok = ();
    type Error = Failed;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    scalar!(
        serialize_i8: i8 => I64 as i64,
        serialize_i16: i16 => I64 as i64,
        serialize_i32: i32 => I64 as i64,
        serialize_i64: i64 => I64 as i64,
        serialize_u8: u8 => U64 as u64,
        serialize_u16: u16 => U64 as u64,
        serialize_u32: u32 => U64 as u64,
        serialize_u64: u64 => U64 as u64,
        serialize_i128: i128 => I128 as i128,
        serialize_u128: u128 => U128 as u128,
        serialize_char: char => CHAR as u32,
    );

    fn serialize_bool(mut self, v: bool) -> Result<(), Failed> {
        self.tag(BOOL);
        self.0.push(u8::from(v));
        Ok(())
    }
    fn serialize_f32(mut self, v: f32) -> Result<(), Failed> {
        self.tag(F32);
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_f64(mut self, v: f64) -> Result<(), Failed> {
        self.tag(F64);
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_str(mut self, v: &str) -> Result<(), Failed> {
        self.tag(STR);
        self.text(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(mut self, v: &[u8]) -> Result<(), Failed> {
        self.tag(BYTES);
        self.text(v);
        Ok(())
    }
    fn serialize_none(mut self) -> Result<(), Failed> {
        self.tag(NONE);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(mut self, value: &T) -> Result<(), Failed> {
        self.tag(SOME);
        value.serialize(self)
    }
    fn serialize_unit(mut self) -> Result<(), Failed> {
        self.tag(UNIT);
        Ok(())
    }
    fn serialize_unit_struct(mut self, name: &'static str) -> Result<(), Failed> {
        self.tag(UNIT_STRUCT);
        self.text(name.as_bytes());
        Ok(())
    }
    fn serialize_unit_variant(
        mut self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<(), Failed> {
        self.variant(UNIT_VARIANT, name, index, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Failed> {
        self.tag(NEWTYPE_STRUCT);
        self.text(name.as_bytes());
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Failed> {
        self.variant(NEWTYPE_VARIANT, name, index, variant);
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Failed> {
        self.open(SEQ, None)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Failed> {
        self.open(TUPLE, None)
    }
    fn serialize_tuple_struct(self, name: &'static str, _: usize) -> Result<Self, Failed> {
        self.open(TUPLE_STRUCT, Some(name))
    }
    fn serialize_tuple_variant(
        mut self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, Failed> {
        self.variant(TUPLE_VARIANT, name, index, variant);
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Failed> {
        self.open(MAP, None)
    }
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self, Failed> {
        self.open(STRUCT, Some(name))
    }
    fn serialize_struct_variant(
        mut self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, Failed> {
        self.variant(STRUCT_VARIANT, name, index, variant);
        Ok(self)
    }
}

impl Printer<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
        self.tag(ELEMENT);
        value.serialize(self.again())
    }
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Failed> {
        self.tag(FIELD);
        self.text(key.as_bytes());
        value.serialize(self.again())
    }
    fn end(mut self) -> Result<(), Failed> {
        self.tag(END);
        Ok(())
    }
}

macro_rules! elements {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl ser::$trait for Printer<'_> {
            type Ok = ();
            type Error = Failed;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
                self.element(value)
            }
            fn end(self) -> Result<(), Failed> {
                Printer::end(self)
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for Printer<'_> {
    type Ok = ();
    type Error = Failed;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Failed> {
        self.tag(KEY);
        key.serialize(self.again())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failed> {
        self.tag(VALUE);
        value.serialize(self.again())
    }
    fn end(self) -> Result<(), Failed> {
        Printer::end(self)
    }
}

macro_rules! fields {
    ($($trait:ident),* $(,)?) => {$(
        impl ser::$trait for Printer<'_> {
            type Ok = ();
            type Error = Failed;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Failed> {
                self.field(key, value)
            }
            fn skip_field(&mut self, key: &'static str) -> Result<(), Failed> {
                self.tag(SKIPPED);
                self.text(key.as_bytes());
                Ok(())
            }
            fn end(self) -> Result<(), Failed> {
                Printer::end(self)
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn bytes<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        assert!(print(value, &mut out));
        out
    }

    #[derive(serde::Serialize)]
    struct Row {
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        value: Option<f64>,
    }

    #[derive(serde::Serialize)]
    enum Side {
        Buy,
        Sell(u8),
    }

    /// Values JSON prints alike, or that compare equal in Rust, print apart here when any
    /// serializer could tell them apart.
    #[test]
    fn what_any_serializer_could_tell_apart_prints_apart() {
        // text holding the tags that would follow it, were its length not written
        let forged = vec![format!("a{}{}b", char::from(ELEMENT), char::from(STR))];
        let apart: [(Vec<u8>, Vec<u8>); 13] = [
            (bytes(&forged), bytes(&vec!["a", "b"])),
            (bytes(&None::<f64>), bytes(&Some(f64::NAN))),
            (bytes(&Some(f64::INFINITY)), bytes(&Some(f64::NEG_INFINITY))),
            (bytes(&0.0_f64), bytes(&-0.0_f64)),
            (bytes(&1_i64), bytes(&1.0_f64)),
            (bytes(&1_i64), bytes(&1_u64)),
            (bytes(&1.0_f32), bytes(&1.0_f64)),
            (bytes("1"), bytes(&1_i64)),
            (bytes(&Some(None::<i64>)), bytes(&None::<Option<i64>>)),
            (bytes(&()), bytes(&None::<i64>)),
            (bytes(&Side::Buy), bytes("Buy")),
            (bytes(&Side::Sell(1)), bytes(&Side::Sell(2))),
            (bytes(&vec!["ab", "c"]), bytes(&vec!["a", "bc"])),
        ];
        for (i, (a, b)) in apart.iter().enumerate() {
            assert_ne!(a, b, "pair {i}");
        }
        let row = |note: Option<&str>, value| Row {
            name: "x".into(),
            note: note.map(str::to_owned),
            value,
        };
        assert_ne!(
            bytes(&row(None, Some(1.0))),
            bytes(&row(Some(""), Some(1.0)))
        );
        assert_ne!(bytes(&row(None, None)), bytes(&row(None, Some(f64::NAN))));
        assert_eq!(
            bytes(&row(Some("n"), Some(2.5))),
            bytes(&row(Some("n"), Some(2.5)))
        );
        // the same pairs in another order print apart: a map's order is what templates see
        assert_ne!(
            bytes(&Pairs(vec![("a", 1), ("b", 2)])),
            bytes(&Pairs(vec![("b", 2), ("a", 1)]))
        );
    }

    /// Pairs serialized as a map, in their order.
    struct Pairs(Vec<(&'static str, i64)>);

    impl Serialize for Pairs {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use ser::SerializeMap;
            let mut map = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in &self.0 {
                map.serialize_entry(k, v)?;
            }
            map.end()
        }
    }

    type Sample = (
        Option<f64>,
        Vec<String>,
        BTreeMap<String, i64>,
        Option<(u8, char)>,
    );

    fn identical(a: &Sample, b: &Sample) -> bool {
        a.0.map(f64::to_bits) == b.0.map(f64::to_bits) && a.1 == b.1 && a.2 == b.2 && a.3 == b.3
    }

    proptest! {
        /// The same bytes exactly when the values are identical (floats to the bit).
        #[test]
        fn equal_prints_are_identical_values(
            a in any::<Sample>(),
            b in any::<Sample>(),
            pick in 0..3_u8,
        ) {
            // mostly unrelated values; a third of the time `b` is `a` with one part changed,
            // so near misses are tried too
            let b = match pick {
                0 => b,
                1 => (a.0, a.1.clone(), a.2.clone(), b.3),
                _ => (b.0, a.1.clone(), a.2.clone(), a.3),
            };
            prop_assert_eq!(bytes(&a) == bytes(&b), identical(&a, &b));
            prop_assert_eq!(bytes(&a), bytes(&a.clone()));
        }
    }
}
