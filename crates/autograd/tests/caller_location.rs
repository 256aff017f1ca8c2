//! Shape panics point at the line of the caller and name the op the caller used
//! (`#[track_caller]` on the public ops). One test: it installs a panic hook, which is global.

use std::panic::{self, Location};
use std::sync::{Arc, Mutex};

use autograd::Var;
use tensor::{DType, Tensor};

/// The panic message and the file:line it was reported at, for `f`.
fn panic_of(f: impl FnOnce()) -> (String, String) {
    let seen = Arc::new(Mutex::new(None));
    let store = Arc::clone(&seen);
    panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()));
        *store.lock().unwrap() = Some((message.unwrap_or_default(), location.unwrap_or_default()));
    }));
    let result = panic::catch_unwind(panic::AssertUnwindSafe(f));
    let _ = panic::take_hook();
    assert!(result.is_err(), "expected a panic");
    let seen = seen.lock().unwrap().clone();
    seen.unwrap()
}

/// A call that should panic.
type Call = Box<dyn Fn()>;

#[test]
fn shape_panics_name_the_op_called_and_the_callers_line() {
    let x = Var::leaf(Tensor::ones(&[2, 3], DType::F64));
    let this_file = Location::caller().file().to_string();

    let cases: Vec<(&str, Call)> = vec![
        ("softmax", {
            let x = x.clone();
            Box::new(move || drop(x.softmax(5)))
        }),
        ("log_softmax", {
            let x = x.clone();
            Box::new(move || drop(x.log_softmax(-3)))
        }),
        ("logsumexp", {
            let x = x.clone();
            Box::new(move || drop(x.logsumexp(&[2], false)))
        }),
        ("min", {
            let x = x.clone();
            Box::new(move || drop(x.min(&[7], false)))
        }),
        ("reshape", {
            let x = x.clone();
            Box::new(move || drop(x.reshape(&[4])))
        }),
        ("matmul", {
            let x = x.clone();
            Box::new(move || drop(x.matmul(&x)))
        }),
        ("flip", {
            let x = x.clone();
            Box::new(move || drop(x.flip(&[0, 2])))
        }),
        ("roll", {
            let x = x.clone();
            Box::new(move || drop(x.roll(1, -3)))
        }),
        ("prod", {
            let x = x.clone();
            Box::new(move || drop(x.prod(&[4], false)))
        }),
        ("add", {
            let x = x.clone();
            Box::new(move || drop(&x + &Var::leaf(Tensor::ones(&[4], DType::F64))))
        }),
    ];
    for (op, call) in cases {
        let (message, location) = panic_of(call);
        assert!(message.starts_with(op), "{op}: message {message:?}");
        assert!(
            location.starts_with(&this_file),
            "{op}: reported at {location}, not in {this_file}"
        );
    }
}
