//! Operator overloads on references: `&a + &b`, `&a * 2.0`, `-&a`. Binary operators
//! broadcast and panic on mismatched shapes, like the named methods they call.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::tensor::Tensor;

impl Add for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn add(self, rhs: &Tensor) -> Tensor {
        Tensor::add(self, rhs)
    }
}

impl Sub for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn sub(self, rhs: &Tensor) -> Tensor {
        Tensor::sub(self, rhs)
    }
}

impl Mul for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn mul(self, rhs: &Tensor) -> Tensor {
        Tensor::mul(self, rhs)
    }
}

impl Div for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn div(self, rhs: &Tensor) -> Tensor {
        Tensor::div(self, rhs)
    }
}

impl Neg for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

impl Add<f64> for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn add(self, rhs: f64) -> Tensor {
        self.add_scalar(rhs)
    }
}

impl Sub<f64> for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn sub(self, rhs: f64) -> Tensor {
        self.add_scalar(-rhs)
    }
}

impl Mul<f64> for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn mul(self, rhs: f64) -> Tensor {
        self.mul_scalar(rhs)
    }
}

impl Div<f64> for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn div(self, rhs: f64) -> Tensor {
        self.mul_scalar(1.0 / rhs)
    }
}
