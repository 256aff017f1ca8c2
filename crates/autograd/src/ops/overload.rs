//! Operator overloads for `Var`: `&a + &b`, `a * b`, `&a * 2.0`, `1.0 - &a`, `-&a`.
//! Each forwards to the named method; binary operators broadcast.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::var::Var;

/// Implements `op` for the four combinations of owned and borrowed `Var`s by calling the
/// method `$method` (this only forwards; the operation itself is the method).
macro_rules! forward_var_operator {
    ($Trait:ident, $method:ident) => {
        impl $Trait<&Var> for &Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: &Var) -> Var {
                Var::$method(self, rhs)
            }
        }
        impl $Trait<Var> for Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: Var) -> Var {
                Var::$method(&self, &rhs)
            }
        }
        impl $Trait<&Var> for Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: &Var) -> Var {
                Var::$method(&self, rhs)
            }
        }
        impl $Trait<Var> for &Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: Var) -> Var {
                Var::$method(self, &rhs)
            }
        }
    };
}

forward_var_operator!(Add, add);
forward_var_operator!(Sub, sub);
forward_var_operator!(Mul, mul);
forward_var_operator!(Div, div);

impl Neg for &Var {
    type Output = Var;
    #[track_caller]
    fn neg(self) -> Var {
        Var::neg(self)
    }
}

impl Neg for Var {
    type Output = Var;
    #[track_caller]
    fn neg(self) -> Var {
        Var::neg(&self)
    }
}

impl Add<f64> for &Var {
    type Output = Var;
    #[track_caller]
    fn add(self, c: f64) -> Var {
        self.add_scalar(c)
    }
}

impl Sub<f64> for &Var {
    type Output = Var;
    #[track_caller]
    fn sub(self, c: f64) -> Var {
        self.add_scalar(-c)
    }
}

impl Mul<f64> for &Var {
    type Output = Var;
    #[track_caller]
    fn mul(self, c: f64) -> Var {
        self.mul_scalar(c)
    }
}

impl Div<f64> for &Var {
    type Output = Var;
    #[track_caller]
    fn div(self, c: f64) -> Var {
        self.mul_scalar(1.0 / c)
    }
}

impl Mul<&Var> for f64 {
    type Output = Var;
    #[track_caller]
    fn mul(self, x: &Var) -> Var {
        x.mul_scalar(self)
    }
}

impl Add<&Var> for f64 {
    type Output = Var;
    #[track_caller]
    fn add(self, x: &Var) -> Var {
        x.add_scalar(self)
    }
}

/// `c − x`
impl Sub<&Var> for f64 {
    type Output = Var;
    #[track_caller]
    fn sub(self, x: &Var) -> Var {
        x.neg().add_scalar(self)
    }
}
