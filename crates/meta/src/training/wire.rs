//! The byte form of what processes exchange: numbers, tensors and lists of them, little-endian
//! and exact (an `f32` travels as its four bytes, so the receiver adds the very value the
//! sender computed).
//!
//! Both ends are this code, in the same program: a malformed message is a bug, and reading
//! one panics.

use tensor::{DType, Tensor};

/// A value that can be written to bytes and read back unchanged.
pub trait Wire: Sized {
    fn write(&self, out: &mut Vec<u8>);
    /// Reads one value from the front of `input` and advances it past the value.
    fn read(input: &mut &[u8]) -> Self;
}

/// The first `n` bytes of `input`, which is advanced past them.
fn take<'a>(input: &mut &'a [u8], n: usize) -> &'a [u8] {
    assert!(
        input.len() >= n,
        "wire: a message ends {} bytes early",
        n - input.len()
    );
    let (head, rest) = input.split_at(n);
    *input = rest;
    head
}

impl Wire for u64 {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn read(input: &mut &[u8]) -> u64 {
        u64::from_le_bytes(take(input, 8).try_into().expect("8 bytes"))
    }
}

impl Wire for usize {
    fn write(&self, out: &mut Vec<u8>) {
        (*self as u64).write(out);
    }
    fn read(input: &mut &[u8]) -> usize {
        u64::read(input) as usize
    }
}

impl Wire for f64 {
    fn write(&self, out: &mut Vec<u8>) {
        self.to_bits().write(out);
    }
    fn read(input: &mut &[u8]) -> f64 {
        f64::from_bits(u64::read(input))
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn write(&self, out: &mut Vec<u8>) {
        self.len().write(out);
        for item in self {
            item.write(out);
        }
    }
    fn read(input: &mut &[u8]) -> Vec<T> {
        let count = usize::read(input);
        (0..count).map(|_| T::read(input)).collect()
    }
}

impl<T: Wire> Wire for Option<T> {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            None => 0u64.write(out),
            Some(value) => {
                1u64.write(out);
                value.write(out);
            }
        }
    }
    fn read(input: &mut &[u8]) -> Option<T> {
        (u64::read(input) == 1).then(|| T::read(input))
    }
}

/// A tensor: its dtype (0 for f32, 1 for f64), its shape, then its elements in row-major
/// order.
impl Wire for Tensor {
    fn write(&self, out: &mut Vec<u8>) {
        self.shape().to_vec().write(out);
        match self.dtype() {
            DType::F32 => {
                0u64.write(out);
                for value in self.to_contiguous_cow::<f32>().iter() {
                    out.extend_from_slice(&value.to_le_bytes());
                }
            }
            DType::F64 => {
                1u64.write(out);
                for value in self.to_contiguous_cow::<f64>().iter() {
                    value.write(out);
                }
            }
        }
    }
    fn read(input: &mut &[u8]) -> Tensor {
        let shape = Vec::<usize>::read(input);
        let count: usize = shape.iter().product();
        let tensor = match u64::read(input) {
            0 => Tensor::from_vec(
                take(input, 4 * count)
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                    .collect::<Vec<f32>>(),
                &shape,
            ),
            1 => Tensor::from_vec((0..count).map(|_| f64::read(input)).collect(), &shape),
            other => panic!("wire: unknown dtype tag {other}"),
        };
        tensor.expect("the shape matches the element count")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Wire>(value: &T) -> T {
        let mut bytes = Vec::new();
        value.write(&mut bytes);
        let mut input = bytes.as_slice();
        let back = T::read(&mut input);
        assert!(input.is_empty(), "{} bytes left over", input.len());
        back
    }

    #[test]
    fn values_come_back_bit_for_bit() {
        assert_eq!(round_trip(&u64::MAX), u64::MAX);
        let odd = [f64::MIN_POSITIVE / 3.0, -0.0, f64::NAN];
        for x in odd {
            assert_eq!(round_trip(&x).to_bits(), x.to_bits());
        }
        assert_eq!(round_trip(&Some(vec![3usize, 1])), Some(vec![3, 1]));
        assert_eq!(round_trip(&None::<f64>), None);
    }

    #[test]
    fn tensors_keep_dtype_shape_and_bits() {
        let small = f32::from_bits(1); // the smallest subnormal f32
        let a = Tensor::from_vec(vec![1.5f32, -0.0, small, 7.0, 8.0, 9.0], &[2, 3]).unwrap();
        // A transposed view: written in row-major order of the view, not of the storage.
        let a_t = a.permute(&[1, 0]);
        let back = round_trip(&a_t);
        assert_eq!(back.shape(), &[3, 2]);
        assert_eq!(back.dtype(), DType::F32);
        let bits = |t: &Tensor| {
            t.to_vec::<f32>()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&back), bits(&a_t));
        let b = Tensor::from_vec(vec![0.1f64, 1e300], &[2]).unwrap();
        assert_eq!(round_trip(&b).to_vec::<f64>(), vec![0.1, 1e300]);
    }
}
