//! Typed tensors of the V2 / Open Inference Protocol: every datatype, shapes checked against
//! the data, JSON and binary (little-endian) encodings.

use std::fmt;

use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use kubeflow_core::Error;

/// A tensor element type of the Open Inference Protocol.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Datatype {
    /// `BOOL` (one byte per element in binary form).
    Bool,
    /// `UINT8`.
    Uint8,
    /// `UINT16`.
    Uint16,
    /// `UINT32`.
    Uint32,
    /// `UINT64`.
    Uint64,
    /// `INT8`.
    Int8,
    /// `INT16`.
    Int16,
    /// `INT32`.
    Int32,
    /// `INT64`.
    Int64,
    /// `FP16` (IEEE 754 half precision; JSON is not accepted by KServe, so it is always sent binary).
    Fp16,
    /// `FP32`.
    Fp32,
    /// `FP64`.
    Fp64,
    /// `BYTES` (binary form: each element is a 4-byte little-endian length, then the bytes).
    Bytes,
    /// A datatype this SDK does not know (e.g. `BF16`), as the server wrote it.
    Unknown(String),
}

impl Datatype {
    /// The protocol's name, e.g. `FP32`.
    pub fn as_str(&self) -> &str {
        match self {
            Datatype::Bool => "BOOL",
            Datatype::Uint8 => "UINT8",
            Datatype::Uint16 => "UINT16",
            Datatype::Uint32 => "UINT32",
            Datatype::Uint64 => "UINT64",
            Datatype::Int8 => "INT8",
            Datatype::Int16 => "INT16",
            Datatype::Int32 => "INT32",
            Datatype::Int64 => "INT64",
            Datatype::Fp16 => "FP16",
            Datatype::Fp32 => "FP32",
            Datatype::Fp64 => "FP64",
            Datatype::Bytes => "BYTES",
            Datatype::Unknown(s) => s,
        }
    }

    /// Parses a protocol name; unknown names become [`Datatype::Unknown`].
    pub fn parse(s: &str) -> Self {
        match s {
            "BOOL" => Datatype::Bool,
            "UINT8" => Datatype::Uint8,
            "UINT16" => Datatype::Uint16,
            "UINT32" => Datatype::Uint32,
            "UINT64" => Datatype::Uint64,
            "INT8" => Datatype::Int8,
            "INT16" => Datatype::Int16,
            "INT32" => Datatype::Int32,
            "INT64" => Datatype::Int64,
            "FP16" => Datatype::Fp16,
            "FP32" => Datatype::Fp32,
            "FP64" => Datatype::Fp64,
            "BYTES" => Datatype::Bytes,
            other => Datatype::Unknown(other.to_owned()),
        }
    }

    /// Bytes per element in binary form (`None` for BYTES and unknown types).
    pub fn element_size(&self) -> Option<usize> {
        Some(match self {
            Datatype::Bool | Datatype::Uint8 | Datatype::Int8 => 1,
            Datatype::Uint16 | Datatype::Int16 | Datatype::Fp16 => 2,
            Datatype::Uint32 | Datatype::Int32 | Datatype::Fp32 => 4,
            Datatype::Uint64 | Datatype::Int64 | Datatype::Fp64 => 8,
            Datatype::Bytes | Datatype::Unknown(_) => return None,
        })
    }
}

impl fmt::Display for Datatype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Datatype {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Datatype {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Datatype::parse(&s))
    }
}

/// The elements of a tensor, flattened in row-major order, typed by datatype.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TensorData {
    /// `BOOL`.
    Bool(Vec<bool>),
    /// `UINT8`.
    Uint8(Vec<u8>),
    /// `UINT16`.
    Uint16(Vec<u16>),
    /// `UINT32`.
    Uint32(Vec<u32>),
    /// `UINT64`.
    Uint64(Vec<u64>),
    /// `INT8`.
    Int8(Vec<i8>),
    /// `INT16`.
    Int16(Vec<i16>),
    /// `INT32`.
    Int32(Vec<i32>),
    /// `INT64`.
    Int64(Vec<i64>),
    /// `FP16`, as raw IEEE 754 half-precision bits (see [`f16_to_f32`] / [`f32_to_f16`]).
    Fp16(Vec<u16>),
    /// `FP32`.
    Fp32(Vec<f32>),
    /// `FP64`.
    Fp64(Vec<f64>),
    /// `BYTES`: one byte string per element.
    Bytes(Vec<Vec<u8>>),
}

macro_rules! from_vec {
    ($($t:ty => $v:ident),*) => {$(
        impl From<Vec<$t>> for TensorData {
            fn from(v: Vec<$t>) -> Self { TensorData::$v(v) }
        }
    )*};
}
from_vec!(bool => Bool, u8 => Uint8, u16 => Uint16, u32 => Uint32, u64 => Uint64, i8 => Int8,
    i16 => Int16, i32 => Int32, i64 => Int64, f32 => Fp32, f64 => Fp64, Vec<u8> => Bytes);

impl From<Vec<String>> for TensorData {
    fn from(v: Vec<String>) -> Self {
        TensorData::Bytes(v.into_iter().map(String::into_bytes).collect())
    }
}

impl From<Vec<&str>> for TensorData {
    fn from(v: Vec<&str>) -> Self {
        TensorData::Bytes(v.into_iter().map(|s| s.as_bytes().to_vec()).collect())
    }
}

impl TensorData {
    /// The datatype of these elements.
    pub fn datatype(&self) -> Datatype {
        match self {
            TensorData::Bool(_) => Datatype::Bool,
            TensorData::Uint8(_) => Datatype::Uint8,
            TensorData::Uint16(_) => Datatype::Uint16,
            TensorData::Uint32(_) => Datatype::Uint32,
            TensorData::Uint64(_) => Datatype::Uint64,
            TensorData::Int8(_) => Datatype::Int8,
            TensorData::Int16(_) => Datatype::Int16,
            TensorData::Int32(_) => Datatype::Int32,
            TensorData::Int64(_) => Datatype::Int64,
            TensorData::Fp16(_) => Datatype::Fp16,
            TensorData::Fp32(_) => Datatype::Fp32,
            TensorData::Fp64(_) => Datatype::Fp64,
            TensorData::Bytes(_) => Datatype::Bytes,
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::Bool(v) => v.len(),
            TensorData::Uint8(v) => v.len(),
            TensorData::Uint16(v) => v.len(),
            TensorData::Uint32(v) => v.len(),
            TensorData::Uint64(v) => v.len(),
            TensorData::Int8(v) => v.len(),
            TensorData::Int16(v) => v.len(),
            TensorData::Int32(v) => v.len(),
            TensorData::Int64(v) => v.len(),
            TensorData::Fp16(v) => v.len(),
            TensorData::Fp32(v) => v.len(),
            TensorData::Fp64(v) => v.len(),
            TensorData::Bytes(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every element as `f64` (numbers and booleans; `None` for BYTES). Handy for printing.
    pub fn to_f64_vec(&self) -> Option<Vec<f64>> {
        #[allow(clippy::cast_precision_loss)]
        Some(match self {
            TensorData::Bool(v) => v.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect(),
            TensorData::Uint8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::Uint16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::Uint32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::Uint64(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::Int8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::Int16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::Int32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::Int64(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::Fp16(v) => v.iter().map(|&x| f64::from(f16_to_f32(x))).collect(),
            TensorData::Fp32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::Fp64(v) => v.clone(),
            TensorData::Bytes(_) => return None,
        })
    }

    /// True when the elements can be written as JSON (FP16 cannot — KServe refuses it — and
    /// neither can BYTES elements that are not UTF-8).
    pub fn json_encodable(&self) -> bool {
        match self {
            TensorData::Fp16(_) => false,
            TensorData::Bytes(v) => v.iter().all(|b| std::str::from_utf8(b).is_ok()),
            _ => true,
        }
    }

    /// The binary (little-endian) form of the elements.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        fn le<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
            let mut out = Vec::with_capacity(v.len() * N);
            for &x in v {
                out.extend_from_slice(&f(x));
            }
            out
        }
        match self {
            TensorData::Bool(v) => v.iter().map(|&b| u8::from(b)).collect(),
            TensorData::Uint8(v) => v.clone(),
            TensorData::Uint16(v) | TensorData::Fp16(v) => le(v, u16::to_le_bytes),
            TensorData::Uint32(v) => le(v, u32::to_le_bytes),
            TensorData::Uint64(v) => le(v, u64::to_le_bytes),
            TensorData::Int8(v) => le(v, i8::to_le_bytes),
            TensorData::Int16(v) => le(v, i16::to_le_bytes),
            TensorData::Int32(v) => le(v, i32::to_le_bytes),
            TensorData::Int64(v) => le(v, i64::to_le_bytes),
            TensorData::Fp32(v) => le(v, f32::to_le_bytes),
            TensorData::Fp64(v) => le(v, f64::to_le_bytes),
            TensorData::Bytes(v) => {
                let mut out = Vec::with_capacity(v.iter().map(|b| b.len() + 4).sum());
                for b in v {
                    // Elements over 4 GiB cannot be encoded; checked by `InferTensor::new`.
                    out.extend_from_slice(
                        &u32::try_from(b.len()).unwrap_or(u32::MAX).to_le_bytes(),
                    );
                    out.extend_from_slice(b);
                }
                out
            }
        }
    }

    /// Decodes binary (little-endian) elements of `datatype`.
    ///
    /// # Errors
    /// When the byte count does not fit the datatype or the datatype is unknown.
    pub fn from_le_bytes(datatype: &Datatype, bytes: &[u8]) -> Result<Self, String> {
        fn chunks<T, const N: usize>(b: &[u8], f: impl Fn([u8; N]) -> T) -> Result<Vec<T>, String> {
            if !b.len().is_multiple_of(N) {
                return Err(format!(
                    "{} bytes is not a multiple of the element size {N}",
                    b.len()
                ));
            }
            Ok(b.chunks_exact(N)
                .map(|c| {
                    let mut a = [0u8; N];
                    a.copy_from_slice(c);
                    f(a)
                })
                .collect())
        }
        Ok(match datatype {
            Datatype::Bool => TensorData::Bool(bytes.iter().map(|&b| b != 0).collect()),
            Datatype::Uint8 => TensorData::Uint8(bytes.to_vec()),
            Datatype::Uint16 => TensorData::Uint16(chunks(bytes, u16::from_le_bytes)?),
            Datatype::Uint32 => TensorData::Uint32(chunks(bytes, u32::from_le_bytes)?),
            Datatype::Uint64 => TensorData::Uint64(chunks(bytes, u64::from_le_bytes)?),
            Datatype::Int8 => TensorData::Int8(chunks(bytes, i8::from_le_bytes)?),
            Datatype::Int16 => TensorData::Int16(chunks(bytes, i16::from_le_bytes)?),
            Datatype::Int32 => TensorData::Int32(chunks(bytes, i32::from_le_bytes)?),
            Datatype::Int64 => TensorData::Int64(chunks(bytes, i64::from_le_bytes)?),
            Datatype::Fp16 => TensorData::Fp16(chunks(bytes, u16::from_le_bytes)?),
            Datatype::Fp32 => TensorData::Fp32(chunks(bytes, f32::from_le_bytes)?),
            Datatype::Fp64 => TensorData::Fp64(chunks(bytes, f64::from_le_bytes)?),
            Datatype::Bytes => {
                let mut out = Vec::new();
                let mut rest = bytes;
                while !rest.is_empty() {
                    let Some((len, tail)) = rest.split_first_chunk::<4>() else {
                        return Err(format!(
                            "BYTES element {}: {} bytes left, too few for a 4-byte length",
                            out.len(),
                            rest.len()
                        ));
                    };
                    let len = u32::from_le_bytes(*len) as usize;
                    if tail.len() < len {
                        return Err(format!(
                            "BYTES element {}: length {len} but only {} bytes left",
                            out.len(),
                            tail.len()
                        ));
                    }
                    let (elem, tail) = tail.split_at(len);
                    out.push(elem.to_vec());
                    rest = tail;
                }
                TensorData::Bytes(out)
            }
            Datatype::Unknown(s) => return Err(format!("unknown datatype `{s}`")),
        })
    }

    /// Decodes JSON `data` (flat or nested arrays) as elements of `datatype`.
    ///
    /// # Errors
    /// When an element does not fit the datatype (the message names its index).
    pub fn from_json(datatype: &Datatype, data: &Value) -> Result<Self, String> {
        let mut flat = Vec::new();
        flatten(data, &mut flat);
        fn each<T>(
            flat: &[&Value],
            what: &str,
            f: impl Fn(&Value) -> Option<T>,
        ) -> Result<Vec<T>, String> {
            flat.iter()
                .enumerate()
                .map(|(i, v)| f(v).ok_or_else(|| format!("element {i} ({v}) is not {what}")))
                .collect()
        }
        fn int<T: TryFrom<i64> + TryFrom<u64>>(v: &Value) -> Option<T> {
            if let Some(u) = v.as_u64() {
                T::try_from(u).ok()
            } else {
                v.as_i64().and_then(|i| T::try_from(i).ok())
            }
        }
        #[allow(clippy::cast_possible_truncation)]
        Ok(match datatype {
            Datatype::Bool => TensorData::Bool(each(&flat, "a boolean", |v| {
                v.as_bool().or_else(|| v.as_u64().map(|n| n != 0))
            })?),
            Datatype::Uint8 => TensorData::Uint8(each(&flat, "a UINT8", int)?),
            Datatype::Uint16 => TensorData::Uint16(each(&flat, "a UINT16", int)?),
            Datatype::Uint32 => TensorData::Uint32(each(&flat, "a UINT32", int)?),
            Datatype::Uint64 => TensorData::Uint64(each(&flat, "a UINT64", int)?),
            Datatype::Int8 => TensorData::Int8(each(&flat, "an INT8", int)?),
            Datatype::Int16 => TensorData::Int16(each(&flat, "an INT16", int)?),
            Datatype::Int32 => TensorData::Int32(each(&flat, "an INT32", int)?),
            Datatype::Int64 => TensorData::Int64(each(&flat, "an INT64", int)?),
            Datatype::Fp16 => TensorData::Fp16(each(&flat, "a number", |v| {
                v.as_f64().map(|x| f32_to_f16(x as f32))
            })?),
            Datatype::Fp32 => {
                TensorData::Fp32(each(&flat, "a number", |v| v.as_f64().map(|x| x as f32))?)
            }
            Datatype::Fp64 => TensorData::Fp64(each(&flat, "a number", Value::as_f64)?),
            Datatype::Bytes => TensorData::Bytes(each(&flat, "a string", |v| {
                v.as_str().map(|s| s.as_bytes().to_vec())
            })?),
            Datatype::Unknown(s) => return Err(format!("unknown datatype `{s}`")),
        })
    }
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        other => out.push(other),
    }
}

/// JSON form of the elements (a flat array). FP16 is written as numbers; BYTES as (lossy) UTF-8.
impl Serialize for TensorData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fn all<S: Serializer, T: Serialize>(
            s: S,
            v: impl ExactSizeIterator<Item = T>,
        ) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(v.len()))?;
            for x in v {
                seq.serialize_element(&x)?;
            }
            seq.end()
        }
        match self {
            TensorData::Bool(v) => v.serialize(s),
            TensorData::Uint8(v) => all(s, v.iter()),
            TensorData::Uint16(v) => v.serialize(s),
            TensorData::Uint32(v) => v.serialize(s),
            TensorData::Uint64(v) => v.serialize(s),
            TensorData::Int8(v) => v.serialize(s),
            TensorData::Int16(v) => v.serialize(s),
            TensorData::Int32(v) => v.serialize(s),
            TensorData::Int64(v) => v.serialize(s),
            TensorData::Fp16(v) => all(s, v.iter().map(|&x| f16_to_f32(x))),
            TensorData::Fp32(v) => v.serialize(s),
            TensorData::Fp64(v) => v.serialize(s),
            TensorData::Bytes(v) => all(s, v.iter().map(|b| String::from_utf8_lossy(b))),
        }
    }
}

/// Converts IEEE 754 half-precision bits to `f32` (exact).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: normalise.
            let mut e: i32 = 127 - 15 + 1;
            let mut m = m;
            while m & 0x400 == 0 {
                m <<= 1;
                e -= 1;
            }
            #[allow(clippy::cast_sign_loss)]
            let e = e as u32;
            sign | (e << 23) | ((m & 0x3ff) << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// Converts an `f32` to IEEE 754 half-precision bits (round to nearest even).
pub fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    #[allow(clippy::cast_possible_truncation)]
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let man = bits & 0x7f_ffff;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    {
        if exp == 0xff {
            // Inf or NaN (keep NaN a NaN).
            return sign
                | 0x7c00
                | if man != 0 {
                    0x200 | (man >> 13) as u16
                } else {
                    0
                };
        }
        let e = exp - 127 + 15;
        if e >= 0x1f {
            return sign | 0x7c00;
        }
        if e <= 0 {
            if e < -10 {
                return sign;
            }
            let m = man | 0x80_0000;
            let shift = (14 - e) as u32;
            let half = 1u32 << (shift - 1);
            let rounded = m + half - 1 + ((m >> shift) & 1);
            return sign | (rounded >> shift) as u16;
        }
        let rounded = man + 0xfff + ((man >> 13) & 1);
        if rounded & 0x80_0000 != 0 {
            // Mantissa overflow: carry into the exponent.
            let e = e + 1;
            if e >= 0x1f {
                return sign | 0x7c00;
            }
            return sign | ((e as u16) << 10);
        }
        sign | ((e as u16) << 10) | (rounded >> 13) as u16
    }
}

/// Checks a shape and returns its element count.
pub(crate) fn element_count(name: &str, shape: &[i64]) -> Result<usize, Error> {
    let mut n: usize = 1;
    for (i, &d) in shape.iter().enumerate() {
        let d = usize::try_from(d).map_err(|_| {
            Error::invalid_argument(
                format!("tensor `{name}` shape"),
                format!("dimension {i} is {d}; dimensions must be >= 0"),
            )
        })?;
        n = n.checked_mul(d).ok_or_else(|| {
            Error::invalid_argument(
                format!("tensor `{name}` shape"),
                "the element count overflows",
            )
        })?;
    }
    Ok(n)
}

/// A named tensor: an input of a request or an output of a response.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InferTensor {
    /// The tensor's name.
    pub name: String,
    /// The shape (row-major).
    pub shape: Vec<i64>,
    /// The elements; their type is the tensor's datatype.
    pub data: TensorData,
    /// Tensor parameters (`binary_data_size` is managed by this SDK and not kept here).
    pub parameters: serde_json::Map<String, Value>,
}

impl InferTensor {
    /// A tensor; the number of elements must match the shape.
    ///
    /// ```
    /// use kubeflow_serving::InferTensor;
    /// let t = InferTensor::new("input-0", vec![2, 3], vec![1f32, 2., 3., 4., 5., 6.])?;
    /// assert_eq!(t.datatype().as_str(), "FP32");
    /// assert!(InferTensor::new("x", vec![2, 3], vec![1f32]).is_err());
    /// # Ok::<(), kubeflow_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the shape has a negative dimension or does not match the
    /// number of elements, or a BYTES element is 4 GiB or larger.
    pub fn new(
        name: impl Into<String>,
        shape: Vec<i64>,
        data: impl Into<TensorData>,
    ) -> Result<Self, Error> {
        let name = name.into();
        let data = data.into();
        let n = element_count(&name, &shape)?;
        if n != data.len() {
            return Err(Error::invalid_argument(
                format!("tensor `{name}`"),
                format!(
                    "shape {shape:?} holds {n} elements but {} were given",
                    data.len()
                ),
            ));
        }
        if let TensorData::Bytes(v) = &data
            && v.iter().any(|b| u32::try_from(b.len()).is_err())
        {
            return Err(Error::invalid_argument(
                format!("tensor `{name}`"),
                "a BYTES element is 4 GiB or larger",
            ));
        }
        Ok(InferTensor {
            name,
            shape,
            data,
            parameters: serde_json::Map::new(),
        })
    }

    /// Adds a tensor parameter.
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.parameters.insert(key.into(), value.into());
        self
    }

    /// The datatype.
    pub fn datatype(&self) -> Datatype {
        self.data.datatype()
    }

    /// The elements as `f32`, when the datatype is FP32.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            TensorData::Fp32(v) => Some(v),
            _ => None,
        }
    }

    /// The elements as `f64`, when the datatype is FP64.
    pub fn as_f64(&self) -> Option<&[f64]> {
        match &self.data {
            TensorData::Fp64(v) => Some(v),
            _ => None,
        }
    }

    /// The elements as `i64`, when the datatype is INT64.
    pub fn as_i64(&self) -> Option<&[i64]> {
        match &self.data {
            TensorData::Int64(v) => Some(v),
            _ => None,
        }
    }

    /// The elements as `i32`, when the datatype is INT32.
    pub fn as_i32(&self) -> Option<&[i32]> {
        match &self.data {
            TensorData::Int32(v) => Some(v),
            _ => None,
        }
    }

    /// The elements as byte strings, when the datatype is BYTES.
    pub fn as_bytes(&self) -> Option<&[Vec<u8>]> {
        match &self.data {
            TensorData::Bytes(v) => Some(v),
            _ => None,
        }
    }
}
